"""The HTTP routing hook: ask the tenant's URL where an inbound call goes.

Request (POST, JSON, signed like webhooks: ``webhook-id``, ``webhook-timestamp``,
``webhook-signature`` with the hook's whsec_ secret, apps/webhooks/signing.py; the address is
checked like a webhook target on every call, apps/webhooks/targets.py)::

    {"type": "routing.request", "tenant": "acme", "hook": 3,
     "call": {"did": "+14155550100", "caller_number": "+15559876543", "caller_name": "Jane",
              "uniqueid": "1795750899.47", "channel": "PJSIP/acme-trunk-1-00000001",
              "time": "2026-12-03T09:00:00+00:00"}}

Answer (2xx, JSON): ``{"destination": {"type": "queue", "id": 4}}`` routes the call there (any
destination the API takes, of this tenant only: checked by telephony.validators.validate_destination
in the tenant's schema); ``{"destination": null}`` lets the DID's own routing continue. A timeout,
an error, a refused address, or an answer that is not one of the tenant's destinations is a
failure: the hook's fallback destination (or the DID's routing when it has none).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from django.utils import timezone

from apps.pbx.render import names
from apps.telephony.destinations import Destination, DestType
from apps.webhooks import signing, targets
from thirdlane.api.errors import DomainError


@dataclass
class Decision:
    status: str  # "ok": route to target; "continue": the DID's routing; "failed": the fallback
    target: str = ""  # context,exten,priority
    mailbox: str = ""  # for a voicemail destination (TL_ROUTE_BOX)
    reason: str = ""


def request_body(tenant, hook, call: dict) -> str:
    return json.dumps({"type": "routing.request", "tenant": tenant.slug, "hook": hook.pk, "call": call},
                      separators=(",", ":"), sort_keys=True)


def signed_headers(hook, body: str) -> dict[str, str]:
    message_id = f"msg_{uuid.uuid4().hex}"
    now = timezone.now()
    return {"Content-Type": "application/json", "User-Agent": targets.USER_AGENT, "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signing.signature_header([hook.secret], message_id, now, body)}


def target_of(tenant, dest: Destination) -> tuple[str, str]:
    """(TL_ROUTE, TL_ROUTE_BOX) for a validated destination of ``tenant`` (current schema):
    the same names the renderer gives these objects (view.TenantView.destination)."""
    from apps.telephony.models import Extension

    slug = tenant.slug
    hook_ctx = f"{slug}-rhook"
    if dest.type == DestType.EXTENSION:
        return f"{names.context(slug, 'extensions')},{Extension.objects.get(pk=dest.id).number},1", ""
    if dest.type == DestType.VOICEMAIL:
        return f"{hook_ctx},vm,1", Extension.objects.get(pk=dest.id).number
    if dest.type in names.DESTINATION_CONTEXTS:
        return f"{names.context(slug, names.DESTINATION_CONTEXTS[dest.type], dest.id)},s,1", ""
    if dest.type == DestType.EXTERNAL:
        return f"{names.context(slug, 'external')},{dest.number},1", ""
    if dest.type == DestType.HANGUP:
        return f"{hook_ctx},hangup,1", ""
    raise DomainError(f"Destination type {dest.type} cannot be routed by a hook.", code="invalid_destination",
                      field="destination")


def decide(tenant, hook, call: dict) -> Decision:
    """Call the hook (in ``tenant``'s schema) and turn its answer into a Decision. Never raises."""
    from apps.telephony.validators import validate_destination

    body = request_body(tenant, hook, call)
    result = targets.post(hook.url, body.encode(), signed_headers(hook, body), timeout=hook.timeout_ms / 1000)
    if not result.succeeded:
        return Decision("failed", reason=result.error or f"HTTP {result.status_code}")
    try:
        answer = json.loads(result.response_excerpt)
    except ValueError:
        return Decision("failed", reason="the answer is not JSON")
    if not isinstance(answer, dict) or "destination" not in answer:
        return Decision("failed", reason="the answer has no destination")
    if answer["destination"] is None:
        return Decision("continue")
    if not isinstance(answer["destination"], dict):
        return Decision("failed", reason="the destination is not an object")
    try:
        dest = validate_destination(tenant, answer["destination"], field="destination")
        target, mailbox = target_of(tenant, dest)
    except DomainError as exc:
        return Decision("failed", reason=f"{exc.code}: {exc.detail}")
    return Decision("ok", target=target, mailbox=mailbox)
