"""FastAGI ``routing-hook``: ask the tenant's routing hook where this inbound call goes.

Dialplan (apps/pbx/render/hooks.py): ``AGI(agi://<portal>:4573/routing-hook?tenant=<slug>&hook=<id>,<DID>)``.
Sets ``TL_ROUTE_STATUS`` (ok / continue / failed) and, on ok, ``TL_ROUTE`` (context,exten,priority
of one of the tenant's own objects) and ``TL_ROUTE_BOX`` (a mailbox). Whatever goes wrong
(unknown tenant or hook, the URL slow or down, a bad answer) the status is ``failed`` and the
dialplan takes the fallback: the call never waits longer than the hook's timeout.
"""
from __future__ import annotations

import logging

from django.db import close_old_connections
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.pbx.agi import register

logger = logging.getLogger(__name__)


@register("routing-hook")
def routing_hook(env, channel) -> None:
    from apps.hooks.models import RoutingHook
    from apps.hooks.routing import decide
    from apps.tenants.models import Tenant

    try:
        tenant = Tenant.objects.filter(slug=env.query.get("tenant", ""), status=Tenant.Status.ACTIVE).first()
        hook_id = env.query.get("hook", "")
        if tenant is None or not hook_id.isdigit():
            channel.set_variable("TL_ROUTE_STATUS", "failed")
            return
        with schema_context(tenant.schema_name):
            hook = RoutingHook.objects.filter(pk=int(hook_id), enabled=True).first()
            if hook is None:
                channel.set_variable("TL_ROUTE_STATUS", "failed")
                return
            call = {"did": env.args[0] if env.args else env.extension, "caller_number": env.callerid,
                    "caller_name": env.calleridname, "uniqueid": env.uniqueid, "channel": env.channel,
                    "time": timezone.now().isoformat()}
            decision = decide(tenant, hook, call)
        if decision.status == "ok":
            channel.set_variable("TL_ROUTE", decision.target)
            if decision.mailbox:
                channel.set_variable("TL_ROUTE_BOX", decision.mailbox)
        channel.set_variable("TL_ROUTE_STATUS", decision.status)
        if decision.reason:
            channel.verbose(f"routing-hook {hook.name}: {decision.reason}"[:200], 3)
        logger.info("routing-hook", extra={"tenant": tenant.slug, "hook": hook.pk, "status": decision.status,
                                           "reason": decision.reason})
    finally:
        close_old_connections()
