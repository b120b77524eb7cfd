"""Writes of the integrator hooks: validate, persist, audit and emit in one transaction."""
from __future__ import annotations

from typing import Any

from apps.audit.services import snapshot
from apps.hooks import dialplan_check
from apps.hooks.models import CustomDialplan, RoutingHook
from apps.telephony.services.common import (
    check_fields, clean, delete, record_created, record_updated, save, tenant_service, unique_name,
)
from apps.telephony.validators import validate_destination
from apps.webhooks import signing, targets
from thirdlane.api.errors import Conflict, DomainError, Invalid

CUSTOM_PREFIX = "config.custom_dialplan"
HOOK_PREFIX = "config.routing_hook"
CUSTOM_FIELDS = {"point", "description", "dialplan", "enabled"}
HOOK_FIELDS = {"name", "url", "secret", "timeout_ms", "fallback", "enabled"}


# --- custom dialplan ---------------------------------------------------------------------------
def custom_dialplan_payload(obj: CustomDialplan) -> dict[str, Any]:
    return {"id": obj.pk, "point": obj.point, "description": obj.description, "enabled": obj.enabled,
            "lines": len([ln for ln in obj.dialplan.splitlines() if ln.strip()])}


def check_custom_dialplan(tenant, obj: CustomDialplan) -> None:
    """Render the tenant's extensions.conf with these lines in place and let the config checker
    judge them (dialplan_check), with the same application and function checks as a push
    (confcheck_features): what is stored here must never make the server's push fail."""
    from apps.pbx.render import confcheck_features, dialplan, features, hooks, loader
    from apps.pbx.render.confcheck import check_dialplan, parse_dialplan
    from apps.pbx.render.view import TenantView

    if obj.point not in hooks.POINTS:
        return  # the model's choices refuse it with the field named
    lines = dialplan_check.check_lines(obj.dialplan)
    info = loader.TenantInfo(tenant.pk, tenant.slug, tenant.name, tenant.schema_name, tenant.timezone,
                             tenant.default_region)
    [data] = loader.load([info])
    others = [r for r in data.rows["custom_dialplans"] if r["point"] != obj.point and r["id"] != obj.pk]
    data.rows["custom_dialplans"] = others + [{"id": obj.pk or 0, "point": obj.point, "description": "",
                                               "dialplan": obj.dialplan, "enabled": True}]
    view = TenantView(data)
    text = dialplan.render([view], "check")
    context = hooks.context(tenant.slug, hooks.POINTS[obj.point])
    rendered = text.splitlines()
    first_line = rendered.index(f"[{context}]") + 3  # the section line, the comment, then line 1
    contexts, errors = parse_dialplan(text)
    errors += check_dialplan(contexts)
    errors += confcheck_features.check(contexts, {"extensions.conf": text,
                                                  "confbridge.conf": features.render_confbridge([view], "check"),
                                                  "res_parking.conf": features.render_parking([view], "check")})
    dialplan_check.check_in_context(lines=lines, first_line=first_line, context=context, contexts=contexts,
                                    own=set(contexts), errors=errors)


@tenant_service
def custom_dialplan_create(*, actor, tenant, point: str, dialplan: str, **fields: Any) -> CustomDialplan:
    check_fields(fields, CUSTOM_FIELDS)
    if CustomDialplan.objects.filter(point=point).exists():
        raise Conflict("This point already has a custom dialplan: update it.", code="duplicate", field="point")
    obj = CustomDialplan(point=point, dialplan=dialplan, **fields)
    clean(obj, exclude=["dialplan"])
    check_custom_dialplan(tenant, obj)
    save(obj, field="point")
    record_created(actor=actor, tenant=tenant, instance=obj, prefix=CUSTOM_PREFIX, payload=custom_dialplan_payload(obj))
    return obj


@tenant_service
def custom_dialplan_update(*, actor, tenant, instance: CustomDialplan, **fields: Any) -> CustomDialplan:
    check_fields(fields, CUSTOM_FIELDS)
    before = snapshot(instance)
    if "point" in fields and fields["point"] != instance.point:
        if CustomDialplan.objects.filter(point=fields["point"]).exclude(pk=instance.pk).exists():
            raise Conflict("This point already has a custom dialplan.", code="duplicate", field="point")
    for name, value in fields.items():
        setattr(instance, name, value)
    clean(instance, exclude=["dialplan"])
    check_custom_dialplan(tenant, instance)
    save(instance, field="point")
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=CUSTOM_PREFIX,
                   payload=custom_dialplan_payload(instance))
    return instance


@tenant_service
def custom_dialplan_delete(*, actor, tenant, instance: CustomDialplan) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=CUSTOM_PREFIX,
           payload=custom_dialplan_payload(instance))


# --- routing hooks -----------------------------------------------------------------------------
def routing_hook_payload(hook: RoutingHook) -> dict[str, Any]:
    return {"id": hook.pk, "name": hook.name, "url": hook.url, "timeout_ms": hook.timeout_ms,
            "fallback_destination": hook.fallback.as_dict() if hook.fallback.is_set else None,
            "enabled": hook.enabled}


def _apply_hook(hook: RoutingHook, tenant, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "fallback":
            hook.fallback = validate_destination(tenant, value, field="fallback_destination", required=False)
            continue
        if name == "url":
            try:
                targets.check_url_statically(value)
            except targets.TargetRefused as exc:
                raise DomainError(str(exc), code="webhook_target_refused", field="url") from exc
        if name == "secret":
            if not value:
                continue  # empty: keep (or generate below)
            if not signing.valid_secret(value):
                raise Invalid("A signing secret is whsec_ followed by 24 to 64 base64 bytes.", field="secret")
        setattr(hook, name, value)
    if not hook.secret:
        hook.secret = signing.new_secret()


@tenant_service
def routing_hook_create(*, actor, tenant, name: str, url: str, **fields: Any) -> RoutingHook:
    check_fields(fields, HOOK_FIELDS)
    unique_name(RoutingHook, name)
    if fields.get("enabled", True) and RoutingHook.objects.filter(enabled=True).exists():
        raise Conflict("The tenant already has an enabled routing hook: every inbound DID call asks one.",
                       code="duplicate", field="enabled")
    hook = RoutingHook(name=name)
    _apply_hook(hook, tenant, {"url": url, **fields})
    clean(hook)
    save(hook, field="name")
    record_created(actor=actor, tenant=tenant, instance=hook, prefix=HOOK_PREFIX, payload=routing_hook_payload(hook))
    return hook


@tenant_service
def routing_hook_update(*, actor, tenant, instance: RoutingHook, **fields: Any) -> RoutingHook:
    check_fields(fields, HOOK_FIELDS)
    before = snapshot(instance)
    if "name" in fields:
        unique_name(RoutingHook, fields["name"], instance)
    if fields.get("enabled") and RoutingHook.objects.filter(enabled=True).exclude(pk=instance.pk).exists():
        raise Conflict("The tenant already has an enabled routing hook.", code="duplicate", field="enabled")
    _apply_hook(instance, tenant, fields)
    clean(instance)
    save(instance, field="name")
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=HOOK_PREFIX,
                   payload=routing_hook_payload(instance))
    return instance


@tenant_service
def routing_hook_delete(*, actor, tenant, instance: RoutingHook) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=HOOK_PREFIX, payload=routing_hook_payload(instance))
