"""Writes to servers, locations and configuration pushes.

Servers and locations are platform objects: only system credentials write them (the views and
the admin check that). Each service validates, saves, and records audit + outbox event in one
transaction. Pushes are queued here and run by ``pbx.apply_config`` (``apps.pbx.apply``).
"""
from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.pbx import validators
from apps.pbx.models import ConfigPush, Location, Server
from thirdlane.api.errors import Conflict, InUse, Invalid
from thirdlane.context import current_request_id
from thirdlane.services import check_fields, delete, record_change

logger = logging.getLogger(__name__)

SERVER_FIELDS = {"name", "host", "sip_address", "sip_port", "ami_host", "ami_port", "ami_username", "ami_secret",
                 "config_dir", "sounds_dir", "location", "role", "is_active"}
LOCATION_FIELDS = {"name", "code", "description", "timezone"}


def server_payload(server: Server) -> dict[str, Any]:
    """Event payload: never the AMI credentials."""
    return {
        "id": server.pk, "name": server.name, "sip_address": server.sip_address, "sip_port": server.sip_port,
        "location": server.location.code if server.location_id else None, "role": server.role,
        "is_active": server.is_active,
    }


def location_payload(location: Location) -> dict[str, Any]:
    return {"id": location.pk, "code": location.code, "name": location.name, "timezone": location.timezone}


def _clean_server(server: Server) -> None:
    errors: dict[str, list] = {}
    checks = [("name", validators.validate_server_name), ("host", validators.validate_host),
              ("sip_address", validators.validate_host), ("ami_host", validators.validate_host),
              ("config_dir", validators.validate_config_dir), ("sounds_dir", validators.validate_sounds_dir)]
    for name, check in checks:
        try:
            check(getattr(server, name))
        except ValidationError as exc:
            errors.setdefault(name, []).append({"code": exc.code or "invalid", "message": " ".join(exc.messages)})
    if errors:
        raise Invalid("Invalid fields: " + ", ".join(sorted(errors)) + ".", errors=errors)
    if Server.objects.filter(name=server.name).exclude(pk=server.pk).exists():
        raise Conflict(f"A server named {server.name!r} already exists.", code="duplicate", field="name")
    server.full_clean()


@transaction.atomic
def server_create(*, actor, **data: Any) -> Server:
    check_fields(data, SERVER_FIELDS)
    server = Server(**data)
    _clean_server(server)
    server.save()
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=server, event_type="server.created",
                  event_data=server_payload(server))
    return server


@transaction.atomic
def server_update(*, actor, instance: Server, **data: Any) -> Server:
    check_fields(data, SERVER_FIELDS)
    server = Server.objects.select_for_update().get(pk=instance.pk)
    before = snapshot(server)
    if not data.get("ami_secret"):
        data.pop("ami_secret", None)  # write-only: absent or empty keeps the stored secret
    for key, value in data.items():
        setattr(server, key, value)
    _clean_server(server)
    server.save()
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=server, before=before,
                  event_type="server.updated", event_data=server_payload(server))
    return server


@transaction.atomic
def server_delete(*, actor, instance: Server) -> None:
    hosted = list(instance.tenants.order_by("slug").values_list("slug", flat=True)[:20])
    if hosted:
        raise InUse(f"Server {instance.name} is the primary server of: {', '.join(hosted)}. Move them first.",
                    extra={"used_by": [f"tenant {slug}" for slug in hosted]})
    delete(actor=actor, instance=instance, prefix="server", payload=server_payload(instance))


@transaction.atomic
def location_create(*, actor, **data: Any) -> Location:
    check_fields(data, LOCATION_FIELDS)
    location = Location(**data)
    _clean_location(location)
    location.save()
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=location, event_type="location.created",
                  event_data=location_payload(location))
    return location


@transaction.atomic
def location_update(*, actor, instance: Location, **data: Any) -> Location:
    check_fields(data, LOCATION_FIELDS)
    location = Location.objects.select_for_update().get(pk=instance.pk)
    before = snapshot(location)
    for key, value in data.items():
        setattr(location, key, value)
    _clean_location(location)
    location.save()
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=location, before=before,
                  event_type="location.updated", event_data=location_payload(location))
    return location


@transaction.atomic
def location_delete(*, actor, instance: Location) -> None:
    from apps.telephony.selectors import location_users

    servers = list(instance.servers.order_by("name").values_list("name", flat=True)[:20])
    # Extensions in every tenant schema reference the location (checked by PostgreSQL only at
    # commit): one statement over all schemas finds them first.
    extensions = location_users(instance.pk)
    used_by = [f"server {name}" for name in servers] + [
        f"{count} extension(s) of tenant {slug}" for slug, count in sorted(extensions.items())]
    if used_by:
        raise InUse(f"Location {instance.code} is still used by: {', '.join(used_by[:20])}.", extra={"used_by": used_by})
    delete(actor=actor, instance=instance, prefix="location", payload=location_payload(instance))


def _clean_location(location: Location) -> None:
    try:
        validators.validate_timezone(location.timezone)
    except ValidationError as exc:
        raise Invalid(exc.messages[0], code="validation_error", field="timezone") from exc
    for name in ("code", "name"):
        if Location.objects.filter(**{name: getattr(location, name)}).exclude(pk=location.pk).exists():
            raise Conflict(f"A location with this {name} already exists.", code="duplicate", field=name)
    location.full_clean()


# --- configuration pushes ------------------------------------------------------------------------

@transaction.atomic
def config_push_request(*, actor, server: Server) -> ConfigPush:
    """Queue a render-write-reload of ``server``; the task starts after this transaction commits."""
    push = ConfigPush.objects.create(server=server, requested_by=getattr(actor, "label", "system")[:150],
                                     request_id=current_request_id() or "")
    record_change(actor=actor, action=AuditEntry.Action.ACTION, verb="apply_config", instance=server)

    def enqueue():
        from apps.pbx.tasks import apply_config

        try:
            apply_config.delay(server.pk, push.pk)
        except Exception:  # broker down: the push stays queued; the beat sweep starts it
            logger.warning("could not queue config push %s; the sweep will start it", push.pk, exc_info=True)

    transaction.on_commit(enqueue)
    return push
