"""Every telephony write emits a registered event whose payload matches its schema and has no secret."""
import jsonschema
import pytest
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from apps.events.registry import EVENT_TYPES
from apps.telephony import services

pytestmark = pytest.mark.django_db
SECRETS = ["Str0ng-Secret-xyz", "482913", "carrier-pass-991"]
OBJECTS = ["extension", "did", "trunk", "outbound_route", "queue", "agent", "ivr", "schedule", "time_condition"]


def test_every_object_has_registered_lifecycle_events_with_valid_examples():
    for obj in OBJECTS:
        for verb in ("created", "updated", "deleted"):
            event_type = EVENT_TYPES[f"config.{obj}.{verb}"]
            jsonschema.validate(event_type.example, event_type.schema)
            assert event_type.system == (obj in ("extension", "did", "trunk"))


def test_a_full_lifecycle_of_every_object_emits_valid_events_without_secrets(world, system_actor):
    kw = {"actor": system_actor, "tenant": world.acme}
    hangup = {"type": "hangup"}
    with tenant_context(world.acme):
        ext = services.extension_create(**kw, number="1001", name="A", sip_secret=SECRETS[0], voicemail_pin=SECRETS[1])
        trunk = services.trunk_create(**kw, name="c", host="h", username="u", secret=SECRETS[2])
        route = services.outbound_route_create(**kw, name="r", dial_patterns=["_X."], trunks=[trunk])
        agent = services.agent_create(**kw, name="B", login_code="77", extension=ext)
        queue = services.queue_create(**kw, number="5000", name="Q", members=[{"agent": agent.pk}], fallback=hangup)
        ivr = services.ivr_create(**kw, name="I", options=[{"digit": "1", "dest": {"type": "queue", "id": queue.pk}}])
        schedule = services.schedule_create(**kw, name="S")
        tc = services.time_condition_create(**kw, name="T", schedule=schedule, match={"type": "ivr", "id": ivr.pk},
                                            no_match={"type": "voicemail", "id": ext.pk})
        did = services.did_create(**kw, number="+14155550100", dest={"type": "time_condition", "id": tc.pk})
        objects = [did, tc, schedule, ivr, queue, agent, route, trunk, ext]
        updates = {ext: {"name": "A2", "sip_secret": "Changed-Secret-77"}, trunk: {"secret": "other-secret-55"}}
        for obj in objects:
            name = type(obj).__name__.lower()
            name = {"did": "did", "timecondition": "time_condition", "outboundroute": "outbound_route"}.get(name, name)
            getattr(services, f"{name}_update")(**kw, instance=obj, **updates.get(obj, {}))
        for obj in objects:
            name = type(obj).__name__.lower()
            name = {"timecondition": "time_condition", "outboundroute": "outbound_route"}.get(name, name)
            getattr(services, f"{name}_delete")(**kw, instance=obj)
    events = list(OutboxEvent.objects.filter(type__startswith="config."))
    assert {e.type for e in events} == {f"config.{o}.{v}" for o in OBJECTS for v in ("created", "updated", "deleted")}
    for event in events:
        jsonschema.validate(event.data, EVENT_TYPES[event.type].schema)
        text = str(event.data)
        for secret in SECRETS + ["Changed-Secret-77", "other-secret-55"]:
            assert secret not in text, (event.type, secret)
        assert event.tenant_slug == "acme" and event.tenant_id == world.acme.pk
