"""Screen pop by caller id, and the phone normaliser's fast path agreeing with phonenumbers."""
import random

import pytest
from django_tenants.utils import tenant_context

from apps.crm import services
from apps.crm.importer.decoding import Inspector
from apps.crm.phones import PhoneError, PhoneNormalizer, to_e164

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    with tenant_context(world.acme):
        account = services.account_create(actor=None, tenant=world.acme, name="Analytical Engines",
                                          phone="+44 20 7946 0000")
        ada = services.contact_create(actor=None, tenant=world.acme, first_name="Ada", last_name="Lovelace",
                                      phone="(415) 555-0100", account=account)
        grace = services.contact_create(actor=None, tenant=world.acme, first_name="Grace", mobile="+1 415 555 0100")
    with tenant_context(world.globex):
        services.contact_create(actor=None, tenant=world.globex, first_name="Other", phone="+1 415 555 0100")
    return ada, grace, account


@pytest.mark.parametrize("number", ["4155550100", "+14155550100", "(415) 555-0100", "1-415-555-0100",
                                    "+1 (415) 555 0100", "415.555.0100", "011 1 415 555 0100"])
def test_screen_pop_finds_contacts_with_their_account_whatever_the_format(api, people, number,
                                                                         django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = api("acme").get("/api/crm-contacts/acme/lookup", {"phone": number})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [c["first_name"] for c in body] == ["Ada", "Grace"]
    assert body[0]["account"] == {"id": people[2].pk, "name": "Analytical Engines", "phone": "+442079460000",
                                  "website": ""}
    assert body[1]["account"] is None and response["X-Total-Count"] == "2"


def test_screen_pop_bad_number_miss_and_isolation(api, people, world):
    assert api("acme").get("/api/crm-contacts/acme/lookup?phone=+1 212 555 0199").json() == []
    bad = api("acme").get("/api/crm-contacts/acme/lookup?phone=hello")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_phone"
    assert api("acme").get("/api/crm-contacts/acme/lookup").status_code == 400
    assert api("globex").get("/api/crm-contacts/acme/lookup?phone=4155550100").status_code == 404
    assert [c["first_name"] for c in api("globex").get("/api/crm-contacts/globex/lookup?phone=4155550100").json()] \
        == ["Other"]


def test_tenant_default_region_reads_national_numbers(api, world):
    world.globex.default_region = "GB"
    world.globex.save()
    created = api("globex").post("/api/crm-contacts/globex/", {"first_name": "Brit", "phone": "020 7946 0000"})
    assert created.json()["phone"] == "+442079460000"
    found = api("globex").get("/api/crm-contacts/globex/lookup?phone=02079460000").json()
    assert [c["first_name"] for c in found] == ["Brit"]


def test_fast_path_agrees_with_phonenumbers_on_random_numbers():
    rng = random.Random(42)
    normaliser = PhoneNormalizer("US")
    formats = ["({a}) {b}-{c}", "+1 {a} {b} {c}", "{a}.{b}.{c}", "+1{a}{b}{c}", "1-{a}-{b}-{c}", "{a}{b}{c}",
               "+44 {a} {b} {c}", "{a}-{b}-{c} x12"]
    for _ in range(5000):
        raw = rng.choice(formats).format(a=f"{rng.randint(0, 999):03d}", b=f"{rng.randint(0, 999):03d}",
                                         c=f"{rng.randint(0, 9999):04d}")
        try:
            expected = to_e164(raw, "US")
        except PhoneError:
            expected = None
        try:
            got = normaliser(raw)
        except PhoneError:
            got = None
        assert got == expected, raw


def test_cyrillic_legacy_files_are_not_read_as_western():
    text = "Имя;Фамилия;Почта\r\nИван;Петров;ivan@example.ru\r\nСергей;Смирнов;s@example.ru\r\n" * 5
    inspector = Inspector()
    inspector.feed(text.encode("cp1251"))
    info = inspector.finish()
    assert info.encoding == "cp1251"
    inspector = Inspector()
    inspector.feed("Name;Stadt\r\nZoë Müller;Köln\r\nJosé;Málaga\r\n".encode("cp1252"))
    assert inspector.finish().encoding == "cp1252"


def test_caller_name_for_the_pbx(people, world):
    from apps.crm.selectors import caller_name

    with tenant_context(world.acme):
        assert caller_name("4155550100") == "Ada Lovelace (Analytical Engines)"
        assert caller_name("+1 212 555 0199") == "" and caller_name("garbage") == ""
