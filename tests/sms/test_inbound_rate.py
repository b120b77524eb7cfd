"""/api/sms/inbound/<provider>: each provider's POSTs are rate limited (GCRA in Redis)."""
from __future__ import annotations

from tests.sms.conftest import CONTACT_PHONE
from tests.sms.test_inbound import acme_messages, batch, inbound, message
from tests.sms.test_messages_api import assert_problem


def reset(provider):
    from thirdlane.ratelimit import store

    store.run(lambda c: c.delete(f"rl:sms-inbound:{provider.public_id}"), None)


def test_a_provider_over_its_inbound_rate_gets_429_with_retry_after_and_nothing_is_stored(client, sms, settings):
    settings.SMS_INBOUND_RATE_PER_PROVIDER = 2
    reset(sms.provider)
    assert [inbound(client, sms, message(f"r-{i}")).status_code for i in range(2)] == [200, 200]
    refused = inbound(client, sms, message("r-3"))
    assert_problem(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) >= 1
    assert [m.carrier_message_id for m in acme_messages(sms.world)] == ["r-0", "r-1"]


def test_a_batch_counts_once_and_wrong_keys_spend_nothing(client, sms, settings):
    settings.SMS_INBOUND_RATE_PER_PROVIDER = 2
    reset(sms.provider)
    for _ in range(5):
        assert_problem(inbound(client, sms, message("x"), key="smsk_wrong"), 401, "invalid_provider_key")
    response = batch(client, sms, [message(f"b-{i}", sender=f"+1415555013{i}") for i in range(5)])
    assert response.status_code == 200, response.content
    assert inbound(client, sms, message("after")).status_code == 200
    assert_problem(batch(client, sms, [message("late")]), 429, "rate_limited")
    assert len(acme_messages(sms.world)) == 6


def test_each_provider_has_its_own_budget(client, sms, settings, system_actor):
    from apps.sms.providers.services import provider_create

    settings.SMS_INBOUND_RATE_PER_PROVIDER = 1
    acme_own = provider_create(actor=system_actor, name="Acme's", url="http://127.0.0.1:9/a", tenant=sms.world.acme)
    reset(sms.provider), reset(acme_own)
    assert inbound(client, sms, message("p-1")).status_code == 200
    assert_problem(inbound(client, sms, message("p-2")), 429, "rate_limited")
    second = inbound(client, sms, message("p-3", sender=CONTACT_PHONE), key=acme_own.key, provider=acme_own.public_id)
    assert second.status_code == 200, second.content


def test_no_limit_when_the_setting_is_0(client, sms, settings):
    settings.SMS_INBOUND_RATE_PER_PROVIDER = 0
    reset(sms.provider)
    assert {inbound(client, sms, message(f"z-{i}")).status_code for i in range(5)} == {200}
