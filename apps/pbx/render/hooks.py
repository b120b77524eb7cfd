"""Integrator hooks in extensions.conf (apps.hooks): custom dialplan and the HTTP routing hook.

Per tenant ``t``, when configured and enabled:

    t-custom-did   the tenant's own lines, run with Gosub(t-custom-did,s,1(<DID>)) for every
                   inbound DID right before its own destination (after look-up and blocking)
    t-custom-out   the same before an outbound route or an external number dials (ARG1: the number)
    t-rhook        asks the tenant's routing hook over FastAGI (apps/hooks/agi_handlers.py); the
                   DID then jumps where it answered (TL_ROUTE), to the hook's fallback on failure,
                   or goes on with its own routing; Gosub'd for every inbound DID after the
                   custom lines

The custom lines were accepted by apps/hooks/dialplan_check.py against this same rendering, so
they only name this tenant's contexts. Names: ``custom-did``/``custom-out``/``rhook`` tails
("did", "out", "rhook") are not suffixes of names.py's grammar, so they cannot collide.
"""
from __future__ import annotations

from apps.pbx.render import text
from apps.pbx.render.view import Row, TenantView

POINTS = {"inbound_did": "custom-did", "outbound_route": "custom-out"}


def agi_base() -> str:
    """settings.PBX_AGI_URL (agi://host:port) when usable, else "" (as for the CRM look-up)."""
    from django.conf import settings

    base = (getattr(settings, "PBX_AGI_URL", "") or "").rstrip("/")
    if not base.startswith("agi://") or any(c in base for c in ",;()[]\n "):
        return ""
    return base


def context(slug: str, kind: str) -> str:
    assert kind in (*POINTS.values(), "rhook"), kind
    return f"{slug}-{kind}"


def custom_rows(v: TenantView) -> dict[str, Row]:
    """point -> the enabled custom dialplan of that point."""
    return {r["point"]: r for r in v.data.rows.get("custom_dialplans", []) if r["enabled"] and r["point"] in POINTS}


def routing_hook(v: TenantView) -> Row | None:
    hooks = sorted((r for r in v.data.rows.get("routing_hooks", []) if r["enabled"]), key=lambda r: r["id"])
    return hooks[0] if hooks else None


def did_apps(v: TenantView) -> list[tuple[str, str]]:
    """Run right before a DID's own destination (ARG1 is the DID). The routing hook's subroutine only sets
    TL_ROUTE / TL_ROUTE_STATUS; the jump happens here, after Return, so no Gosub frame is left."""
    apps = []
    if "inbound_did" in custom_rows(v):
        apps.append(("", f"Gosub({context(v.slug, 'custom-did')},s,1(${{EXTEN}}))"))
    hook = routing_hook(v)
    if hook is not None:
        rhook = context(v.slug, "rhook")
        apps.append(("", f"Gosub({rhook},s,1(${{EXTEN}}))"))
        apps.append(("", '''GotoIf($["${TL_ROUTE}" != ""]?${TL_ROUTE})'''))
        if hook.get("fallback_type"):
            apps.append(("", f'''GotoIf($["${{TL_ROUTE_STATUS}}" = "failed"]?{rhook},fallback,1)'''))
    return apps


def route_apps(v: TenantView) -> list[tuple[str, str]]:
    """Run before an outbound route dials (ARG1 is the dialled number)."""
    if "outbound_route" in custom_rows(v):
        return [("", f"Gosub({context(v.slug, 'custom-out')},s,1(${{EXTEN}}))")]
    return []


def render(out, v: TenantView) -> None:
    """The hook contexts of one tenant (``out`` is dialplan.Lines)."""
    for point, row in sorted(custom_rows(v).items()):
        out.append(f"[{context(v.slug, POINTS[point])}]")
        out.append(f"; custom dialplan of {v.slug}: {text.label(row['description']) or point}")
        # Line for line (blank lines and comments too), so the checker's line numbers are the user's.
        out.extend(line.rstrip() for line in (row["dialplan"] or "").splitlines())
        out.append("")
    hook = routing_hook(v)
    if hook is not None:
        _routing_hook(out, v, hook, agi_base())


def _routing_hook(out, v: TenantView, hook: Row, agi_base: str) -> None:
    """The AGI sets TL_ROUTE to ``context,exten,priority`` of the destination the URL answered
    (built by the portal from the tenant's own objects) and TL_ROUTE_STATUS to ok / continue /
    failed. Without PBX_AGI_URL the hook cannot be asked: every call takes the fallback."""
    out.append(f"[{context(v.slug, 'rhook')}]")
    out.append(f"; routing hook {text.label(hook['name'])}")
    apps = [("", f"NoOp({v.slug}: routing hook {text.label(hook['name'])} for ${{ARG1}})"),
            ("", "Set(TL_ROUTE=)"), ("", "Set(TL_ROUTE_STATUS=failed)")]
    if agi_base:
        apps.append(("", f"AGI({agi_base}/routing-hook?tenant={v.slug}&hook={int(hook['id'])},${{ARG1}})"))
    apps.append(("", "Return()"))
    out.exten("s", apps)
    if hook.get("fallback_type"):
        out.exten("fallback", [("", f"NoOp({v.slug}: routing hook fallback)")]
                  + [("", app) for app in v.destination(hook, "fallback")])
    # Destinations that are not a jump: a mailbox (TL_ROUTE_BOX set by the AGI) and hanging up.
    out.exten("vm", [("", f"VoiceMail(${{TL_ROUTE_BOX}}@{v.slug},u)"), ("", "Hangup()")])
    out.exten("hangup", [("", "Hangup()")])
    out.append("")
