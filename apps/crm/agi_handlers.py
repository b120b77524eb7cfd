"""FastAGI ``crm-lookup``: name the caller from the tenant's CRM before the phones ring.

Dialplan: ``AGI(agi://<portal>:4573/crm-lookup?tenant=<slug>,${CALLERID(num)})``. The caller's
number is read in any format and matched in E.164 with the tenant's region; on a match the
channel's ``CALLERID(name)`` becomes "Name (Account)". A miss, an unknown or suspended tenant, or
a number that is not a phone number leaves the call untouched: the call must never wait on us.
"""
from __future__ import annotations

import logging

from django.db import close_old_connections
from django_tenants.utils import schema_context

from apps.pbx.agi import register

logger = logging.getLogger(__name__)


def _tenant_for(env):
    from apps.tenants.models import Tenant

    slug = env.query.get("tenant")
    if slug:
        return Tenant.objects.filter(slug=slug, status=Tenant.Status.ACTIVE).first()
    # Without ?tenant=, the tenant is the longest slug that prefixes the context ("acme-internal").
    context = env.context or ""
    candidates = [context[:i] for i, ch in enumerate(context) if ch == "-"]
    found = Tenant.objects.filter(slug__in=candidates, status=Tenant.Status.ACTIVE)
    return max(found, key=lambda t: len(t.slug), default=None)


@register("crm-lookup")
def crm_lookup(env, channel) -> None:
    from apps.crm.selectors import caller_name

    try:
        tenant = _tenant_for(env)
        if tenant is None:
            channel.verbose("crm-lookup: no such tenant", 3)
            return
        number = env.args[0] if env.args and env.args[0] else channel.get_variable("CALLERID(num)")
        if not number:
            return
        with schema_context(tenant.schema_name):
            name = caller_name(number, tenant.default_region)
        if name:
            channel.set_variable("CALLERID(name)", name[:80])
        logger.info("crm-lookup", extra={"tenant": tenant.slug, "matched": bool(name)})
    finally:
        close_old_connections()
