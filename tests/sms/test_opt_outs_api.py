"""/api/sms/<tenant>/opt-outs/: the numbers a DID sends nothing to, from STOP or added here, and
removed here (as START would). Cross-tenant checks: tests/platform/test_every_tenant_resource.py."""
from __future__ import annotations

import pytest

from tests.sms.conftest import ACME_DID, ACME_VOICE_DID, CONTACT_PHONE, GLOBEX_DID
from tests.sms.test_inbound import inbound, message
from tests.sms.test_messages_api import assert_problem, send

URL = "/api/sms/acme/opt-outs/"
OTHER = "+14155550111"


def test_an_opt_out_added_here_refuses_sends_and_removing_it_allows_them_again(api, sms, no_celery):
    from apps.audit.models import AuditEntry

    response = api("acme").post(URL, {"did": ACME_DID, "remote": CONTACT_PHONE})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["did"], body["remote"], body["keyword"]) == (ACME_DID, CONTACT_PHONE, "API")
    assert_problem(send(api), 409, "recipient_opted_out", "to")
    assert api("acme").delete(f"{URL}{body['id']}/").status_code == 204
    assert send(api).status_code == 202
    actions = list(AuditEntry.objects.filter(object_type__icontains="opt").values_list("action", flat=True))
    assert sorted(actions) == ["create", "delete"]


def test_stop_shows_up_in_the_list_and_start_removes_it(api, client, sms):
    inbound(client, sms, message("s-1", sender=OTHER, text="stop!"))
    [row] = api("acme").get(URL).json()
    assert (row["did"], row["remote"], row["keyword"]) == (ACME_DID, OTHER, "STOP")
    inbound(client, sms, message("s-2", sender=OTHER, text="START"))
    assert api("acme").get(URL).json() == []


def test_list_filters_by_number(api, sms):
    for remote in (CONTACT_PHONE, OTHER):
        assert api("acme").post(URL, {"did": ACME_DID, "remote": remote}).status_code == 201
    response = api("acme").get(URL + "?remote=" + OTHER.replace("+", "%2B"))
    assert [r["remote"] for r in response.json()] == [OTHER] and response["X-Total-Count"] == "1"
    assert len(api("acme").get(URL + "?did=%2B14155550199").json()) == 2
    assert api("acme").get(URL + "?search=0111").json()[0]["remote"] == OTHER
    assert api("globex").get("/api/sms/globex/opt-outs/").json() == []


@pytest.mark.parametrize("body,status,code,field", [
    ({"did": ACME_DID, "remote": "0415555"}, 400, "validation_error", "remote"),
    ({"did": "14155550199", "remote": OTHER}, 400, "validation_error", "did"),
    ({"did": ACME_VOICE_DID, "remote": OTHER}, 400, "did_not_sms_capable", "did"),
    ({"did": GLOBEX_DID, "remote": OTHER}, 400, "reference_not_found", "did"),  # another tenant's DID
    ({"did": ACME_DID}, 400, "validation_error", "remote"),
    ({"did": ACME_DID, "remote": OTHER, "reason": "asked"}, 400, "validation_error", "reason"),
])
def test_bad_opt_outs_are_refused_per_field(api, sms, body, status, code, field):
    assert_problem(api("acme").post(URL, body), status, code, field)
    assert api("acme").get(URL).json() == []


def test_a_number_opts_out_once(api, sms):
    assert api("acme").post(URL, {"did": ACME_DID, "remote": OTHER}).status_code == 201
    assert_problem(api("acme").post(URL, {"did": ACME_DID, "remote": OTHER}), 409, "duplicate", "remote")


def test_opt_outs_cannot_be_changed_and_read_only_keys_only_read(api, sms):
    row = api("acme").post(URL, {"did": ACME_DID, "remote": OTHER}).json()
    assert api("acme").patch(f"{URL}{row['id']}/", {"remote": CONTACT_PHONE}).status_code == 405
    assert api("acme_ro").get(URL).status_code == 200
    assert_problem(api("acme_ro").delete(f"{URL}{row['id']}/"), 403, "read_only_credential")
    assert_problem(api("acme").delete(f"{URL}999999/"), 404, "not_found")
