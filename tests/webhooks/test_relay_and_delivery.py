"""Relay matching and the delivery engine, in-process against a real HTTP receiver.

Time is controlled by passing ``now`` to the due-sweep (``sweep(now=..., inline=True)``); the
worker-process tests (test_worker.py) show the same code under real Celery workers.
"""
import logging
import socket
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from apps.accounts.principal import Principal
from apps.events.models import OutboxEvent
from apps.events.services import emit_event
from apps.tenants.services import tenant_suspend, tenant_update
from apps.webhooks import services
from apps.webhooks.delivery import RETRY_SCHEDULE, deliver, purge, sweep
from apps.webhooks.models import Attempt, Delivery, Subscription
from apps.webhooks.relay import relay_pending

pytestmark = pytest.mark.django_db
ACTOR = Principal.system("tests")


def hook(tenant=None, url="https://hooks.example.com/x", event_types=("*",), kind="tenant", reseller=None, **kw):
    return services.subscription_create(actor=ACTOR, tenant=tenant, kind=kind, url=url, reseller=reseller,
                                        event_types=list(event_types), **kw)


def emit(type_, tenant, **data):
    with transaction.atomic():
        return emit_event(type=type_, data=data or {"id": 1}, tenant=tenant)


def delivered_types(sub):
    return sorted(Delivery.objects.filter(subscription=sub).values_list("event_type", flat=True))


# --- relay: who gets what ------------------------------------------------------------------------

def test_tenant_webhook_gets_its_tenants_matching_events_only(world):
    crm = hook(world.acme, event_types=["crm.*"])
    ext = hook(world.acme, event_types=["config.extension.*"])
    exact = hook(world.acme, event_types=["tenant.updated", "crm.contact.deleted"])
    other = hook(world.globex, event_types=["*"])
    emit("crm.contact.created", world.acme)
    emit("crm.contact.deleted", world.acme)
    emit("config.extension.updated", world.acme)
    emit("config.did.created", world.acme)
    emit("crm.contact.created", world.globex)
    tenant_update(actor=ACTOR, tenant=world.acme, name="Acme 2")
    relay_pending()
    assert delivered_types(crm) == ["crm.contact.created", "crm.contact.deleted"]
    assert delivered_types(ext) == ["config.extension.updated"]
    assert delivered_types(exact) == ["crm.contact.deleted", "tenant.updated"]
    assert delivered_types(other) == ["crm.contact.created"]
    assert not Delivery.objects.filter(subscription=other, event__tenant_id=world.acme.pk).exists()
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()


def test_system_webhooks_get_lifecycle_events_of_every_tenant_in_scope(world):
    everything = hook(kind="system")
    reseller_one = hook(kind="system", reseller=world.reseller)
    for tenant in (world.acme, world.globex, world.initech):
        tenant_update(actor=ACTOR, tenant=tenant, notes="x")
        emit("crm.contact.created", tenant)  # not a system event
    tenant_suspend(actor=ACTOR, tenant=world.initech)
    relay_pending()
    got = Delivery.objects.filter(subscription=everything).select_related("event")
    assert sorted((d.event.tenant_slug, d.event_type) for d in got) == [
        ("acme", "tenant.updated"), ("globex", "tenant.updated"), ("initech", "tenant.suspended"),
        ("initech", "tenant.updated")]
    mine = Delivery.objects.filter(subscription=reseller_one).select_related("event")
    assert sorted(d.event.tenant_slug for d in mine) == ["acme", "globex"]


def test_relay_is_idempotent_and_skips_disabled_and_later_subscriptions(world):
    on = hook(world.acme)
    off = hook(world.acme)
    services.subscription_update(actor=ACTOR, instance=off, enabled=False)
    emit("crm.contact.created", world.acme)
    later = hook(world.acme)
    relay_pending()
    relay_pending()
    assert Delivery.objects.filter(subscription=on).count() == 1
    assert not Delivery.objects.filter(subscription__in=[off, later]).exists()
    OutboxEvent.objects.update(relayed_at=None)  # a crashed relay that never marked its rows
    relay_pending()
    assert Delivery.objects.filter(subscription=on).count() == 1


def test_rolled_back_transaction_leaves_nothing_to_deliver(world):
    sub = hook(world.acme)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            tenant_update(actor=ACTOR, tenant=world.acme, name="Never")
            emit_event(type="crm.contact.created", data={"id": 9}, tenant=world.acme)
            raise RuntimeError("boom")
    relay_pending()
    assert not Delivery.objects.filter(subscription=sub).exists()


# --- delivery --------------------------------------------------------------------------------

def test_delivery_is_signed_and_shaped_like_the_spec(world, receiver):
    sub = hook(world.acme, url=receiver.url, headers={"X-Team": "crm"})
    event = emit("crm.contact.created", world.acme, id=42, name="Ada")
    [delivery_id] = relay_pending()
    assert deliver([delivery_id]) == 1
    [got] = receiver.requests
    payload = Webhook(sub.secret).verify(got.body, got.headers)
    assert payload == {"type": "crm.contact.created", "timestamp": payload["timestamp"], "tenant": "acme",
                       "event_id": str(event.event_id), "request_id": None, "data": {"id": 42, "name": "Ada"}}
    assert got.headers["webhook-id"] == f"msg_{event.event_id.hex}"
    assert got.headers["X-Team"] == "crm" and got.headers["Content-Type"] == "application/json"
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == "succeeded" and delivery.attempt_count == 1 and delivery.last_status_code == 200
    attempt = delivery.attempts.get()
    assert attempt.succeeded and attempt.response_excerpt == "ok" and attempt.address == "127.0.0.1"
    assert deliver([delivery_id]) == 0  # done is done


def test_our_signature_equals_the_reference_library(world):
    from datetime import datetime, timezone as tz

    from apps.webhooks.signing import signature_header

    sub = hook(world.acme)
    at = datetime(2026, 11, 27, 10, 0, tzinfo=tz.utc)
    assert signature_header([sub.secret], "msg_1", at, '{"a":1}') == Webhook(sub.secret).sign("msg_1", at, '{"a":1}')


def test_500_is_retried_on_the_schedule_then_given_up(world, receiver):
    receiver.default = 500
    hook(world.acme, url=receiver.url)
    emit("crm.contact.created", world.acme)
    [delivery_id] = relay_pending()
    now = timezone.now()
    deliver([delivery_id], now=now)
    for step, seconds in enumerate(RETRY_SCHEDULE, start=1):
        d = Delivery.objects.get(pk=delivery_id)
        assert d.status == "pending" and d.attempt_count == step
        gap = (d.next_attempt_at - d.last_attempt_at).total_seconds()
        assert seconds * 0.9 <= gap <= seconds * 1.1, (step, gap)
        early = sweep(now=d.next_attempt_at - timedelta(seconds=1), inline=True)
        assert early["attempted"] == 0 and Delivery.objects.get(pk=delivery_id).attempt_count == step
        assert sweep(now=d.next_attempt_at, inline=True)["attempted"] == 1
    d = Delivery.objects.get(pk=delivery_id)
    assert d.status == "failed" and d.attempt_count == len(RETRY_SCHEDULE) + 1 and d.next_attempt_at is None
    assert len(receiver.requests) == 8 and d.attempts.count() == 8
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message, many attempts


def test_success_after_failures_stops_retrying_and_clears_the_failure_streak(world, receiver):
    receiver.answer(500, 502)
    sub = hook(world.acme, url=receiver.url)
    emit("crm.contact.created", world.acme)
    [delivery_id] = relay_pending()
    now = timezone.now()
    deliver([delivery_id], now=now)
    assert Subscription.objects.get(pk=sub.pk).failing_since == now
    for _ in range(2):
        sweep(now=Delivery.objects.get(pk=delivery_id).next_attempt_at, inline=True)
    d = Delivery.objects.get(pk=delivery_id)
    assert d.status == "succeeded" and d.attempt_count == 3
    assert Subscription.objects.get(pk=sub.pk).failing_since is None


@pytest.mark.parametrize("status,retry_after,expected", [(429, "120", 120), (503, "7", 7)])
def test_retry_after_is_honoured(world, receiver, status, retry_after, expected):
    receiver.answer((status, {"Retry-After": retry_after}, 0))
    hook(world.acme, url=receiver.url)
    emit("crm.contact.created", world.acme)
    [delivery_id] = relay_pending()
    now = timezone.now()
    deliver([delivery_id], now=now)
    d = Delivery.objects.get(pk=delivery_id)
    assert d.status == "pending" and d.next_attempt_at == now + timedelta(seconds=expected)


def test_retry_after_as_http_date(world, receiver):
    from email.utils import format_datetime

    later = timezone.now().replace(microsecond=0) + timedelta(minutes=10)
    receiver.answer((503, {"Retry-After": format_datetime(later, usegmt=True)}, 0))
    hook(world.acme, url=receiver.url)
    emit("crm.contact.created", world.acme)
    [delivery_id] = relay_pending()
    now = timezone.now()
    deliver([delivery_id], now=now)
    wait = (Delivery.objects.get(pk=delivery_id).next_attempt_at - now).total_seconds()
    assert 590 <= wait <= 600


def test_a_4xx_refusal_is_not_retried(world, receiver):
    receiver.answer(400)
    hook(world.acme, url=receiver.url)
    emit("crm.contact.created", world.acme)
    [delivery_id] = relay_pending()
    deliver([delivery_id])
    d = Delivery.objects.get(pk=delivery_id)
    assert d.status == "failed" and d.last_status_code == 400 and d.next_attempt_at is None


def test_410_disables_the_endpoint_and_emits_an_event(world, receiver):
    receiver.answer(410)
    sub = hook(world.acme, url=receiver.url + "?token=s3cr3t")
    watcher = hook(world.acme, event_types=["system.*"])
    emit("crm.contact.created", world.acme)
    relay_pending()
    d = Delivery.objects.get(subscription=sub)
    deliver([d.pk])
    sub.refresh_from_db()
    assert not sub.enabled and sub.disabled_reason == "gone"
    assert Delivery.objects.get(pk=d.pk).status == "failed"
    event = OutboxEvent.objects.get(type="system.webhook.disabled")
    assert event.data["webhook_id"] == sub.pk and event.data["reason"] == "gone" and event.tenant_id == world.acme.pk
    assert event.data["url"] == receiver.url  # without the query string, where tokens live
    relay_pending()
    assert delivered_types(watcher) == ["system.webhook.disabled"]
    # pending work for a disabled endpoint fails without an attempt
    emit("crm.contact.updated", world.acme)
    Delivery.objects.create(subscription=sub, event=OutboxEvent.objects.latest("id"), event_type="crm.contact.updated",
                            message_id="msg_y", next_attempt_at=timezone.now())
    sweep(now=timezone.now() + timedelta(minutes=1), inline=True)
    assert len(receiver.requests) == 1


def test_five_days_of_continuous_failure_disables_once(world, receiver):
    receiver.default = 503
    sub = hook(world.acme, url=receiver.url)
    start = timezone.now() + timedelta(seconds=5)  # after every relay below
    for day in range(7):
        emit("crm.contact.created", world.acme, day=day)
        ids = relay_pending()
        deliver(ids, now=start + timedelta(days=day))
        sub.refresh_from_db()
        assert sub.enabled == (day < 5), day
    assert sub.disabled_reason == "failing" and sub.failing_since == start
    assert OutboxEvent.objects.filter(type="system.webhook.disabled").count() == 1
    assert OutboxEvent.objects.get(type="system.webhook.disabled").system is True


# --- target safety -----------------------------------------------------------------------------

def test_every_attempt_checks_the_resolved_address(world, receiver, settings, monkeypatch):
    """A name that resolved to a public address when saved and to 127.0.0.1 now (DNS
    rebinding) is refused at the attempt, before any connection."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    real = socket.getaddrinfo
    answers = {"hooks.example.test": "93.184.216.34"}

    def fake(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    port = receiver.server.server_address[1]
    sub = hook(world.acme, url=f"http://hooks.example.test:{port}/hook")  # accepted: resolves publicly
    answers["hooks.example.test"] = "127.0.0.1"
    emit("crm.contact.created", world.acme)
    [delivery_id] = relay_pending()
    deliver([delivery_id])
    attempt = Attempt.objects.get(delivery_id=delivery_id)
    assert attempt.status_code is None and attempt.error.startswith("refused:") and "loopback" in attempt.error
    assert receiver.requests == []
    # allowed private targets: we connect to the address we checked, and send the name as Host
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    sweep(now=timezone.now() + timedelta(seconds=10), inline=True)
    [got] = receiver.requests
    assert got.headers["Host"] == f"hooks.example.test:{port}"
    Webhook(sub.secret).verify(got.body, got.headers)


def test_secrets_never_appear_in_payloads_or_logs(api, world, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    created = api("acme").post("/api/webhooks/acme/", {"url": receiver.url, "event_types": ["*"]}).json()
    secret = created["secret"]
    rotated = api("acme").post(f"/api/webhooks/acme/{created['id']}/rotate-secret/").json()["secret"]
    receiver.default = 500
    emit("crm.contact.created", world.acme, password="not-ours")
    tenant_update(actor=ACTOR, tenant=world.acme, notes="n")
    ids = relay_pending()
    deliver(ids)
    api("acme").post(f"/api/webhooks/acme/{created['id']}/test/", {"event_type": "tenant.updated"})
    api("acme").get(f"/api/webhooks/acme/{created['id']}/deliveries/")
    assert receiver.requests
    raw_secrets = [s.encode() for s in (secret, rotated, secret[6:], rotated[6:])]
    for request in receiver.requests:
        assert not any(s in request.body for s in raw_secrets)
        assert not any(s.decode() in str(request.headers) for s in raw_secrets)
    logged = "\n".join(r.getMessage() + " " + str(r.__dict__) for r in caplog.records)
    assert caplog.records and not any(s.decode() in logged for s in raw_secrets)
    from apps.audit.models import AuditEntry

    audits = str(list(AuditEntry.objects.values_list("before", "after")))
    assert not any(s.decode() in audits for s in raw_secrets)


def test_retention_purges_old_finished_deliveries(world, settings):
    settings.WEBHOOK_RETENTION_DAYS = 30
    sub = hook(world.acme)
    for i in range(3):
        emit("crm.contact.created", world.acme, i=i)
    ids = relay_pending()
    old = timezone.now() - timedelta(days=31)
    Delivery.objects.filter(pk__in=ids[:2]).update(created_at=old, status="succeeded")
    Delivery.objects.filter(pk=ids[2]).update(created_at=old)  # still pending: kept
    Attempt.objects.create(delivery_id=ids[0], attempted_at=old, status_code=200, succeeded=True)
    assert purge() == 2
    assert list(Delivery.objects.filter(subscription=sub).values_list("pk", flat=True)) == [ids[2]]
    assert not Attempt.objects.exists()


def test_the_sweep_renudges_only_due_deliveries_whose_nudge_went_stale(world):
    from apps.webhooks.delivery import NUDGE_GRACE, claim_due

    hook(world.acme)
    for i in range(4):
        emit("crm.contact.created", world.acme, i=i)
    ids = relay_pending()
    now = timezone.now()
    Delivery.objects.filter(pk=ids[0]).update(nudged_at=now - timedelta(seconds=5))  # in flight
    Delivery.objects.filter(pk=ids[1]).update(nudged_at=now - NUDGE_GRACE - timedelta(seconds=1))  # lost
    Delivery.objects.filter(pk=ids[2]).update(nudged_at=None)  # a long retry: nobody was asked
    Delivery.objects.filter(pk=ids[3]).update(nudged_at=None, next_attempt_at=now + timedelta(hours=2))
    assert sorted(claim_due(now=now)) == sorted(ids[1:3])
    assert claim_due(now=now) == []  # claimed ones count as nudged now
    assert Delivery.objects.get(pk=ids[1]).nudged_at == now


def test_recover_requeues_failed_deliveries_in_the_window(api, world, receiver):
    sub = hook(world.acme, url=receiver.url, event_types=["crm.*"])
    start = timezone.now()
    receiver.answer(400, 400)
    emit("crm.contact.created", world.acme, i=1)
    emit("crm.contact.created", world.acme, i=2)
    deliver(relay_pending())
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    counts = services.subscription_recover(actor=ACTOR, instance=sub, since=start)
    assert counts == {"created": 0, "requeued": 2}
    assert set(Delivery.objects.values_list("status", "attempt_count")) == {("pending", 0)}
    deliver(Delivery.objects.values_list("pk", flat=True))
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert Attempt.objects.count() == 4


def test_a_test_delivery_to_a_refused_target_never_connects(api, world, receiver, settings):
    body = api("acme").post("/api/webhooks/acme/", {"url": receiver.url, "event_types": ["*"]}).json()
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    result = api("acme").post(f"/api/webhooks/acme/{body['id']}/test/", {"event_type": "tenant.updated"}).json()
    assert result["succeeded"] is False and result["status_code"] is None
    assert result["error"].startswith("refused:") and receiver.requests == []


def test_a_failing_endpoint_gets_one_probe_per_batch_and_the_rest_waits_for_it(world, receiver):
    """Once an endpoint is failing, a batch sends it one delivery; if that fails too, its other
    deliveries wait for the next probe without spending attempts. Healthy endpoints in the same
    batch are not affected."""
    receiver.default = 503
    failing = hook(world.acme, url=receiver.url_for("down"), event_types=["crm.*"])
    healthy = hook(world.globex, url="https://hooks.example.com/x", event_types=["crm.*"])
    emit("crm.contact.created", world.acme, i=0)
    [first] = relay_pending()
    now = timezone.now()
    deliver([first], now=now)  # the endpoint starts failing
    assert Subscription.objects.get(pk=failing.pk).failing_since == now
    for i in range(1, 6):
        emit("crm.contact.created", world.acme, i=i)
    ids = relay_pending()
    Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now)
    assert deliver(ids, now=now + timedelta(seconds=1)) == 1
    assert len(receiver.requests) == 2 and Attempt.objects.count() == 2
    rows = Delivery.objects.filter(pk__in=ids)
    probe = rows.get(attempt_count=1)
    waiting = rows.exclude(pk=probe.pk)
    assert {(d.attempt_count, d.next_attempt_at, d.status) for d in waiting} == {(0, probe.next_attempt_at, "pending")}
    # the endpoint recovers: the next batch probes, succeeds, and sends the rest at once
    receiver.default = 200
    sweep(now=probe.next_attempt_at, inline=True)
    assert set(rows.values_list("status", flat=True)) == {"succeeded"}
    assert Delivery.objects.get(pk=first).status == "succeeded"  # its own retry was due too
    assert len(receiver.requests) == 2 + 6 and Subscription.objects.get(pk=failing.pk).failing_since is None
    assert healthy.enabled
