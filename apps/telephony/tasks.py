"""Telephony tasks: the PBX learns a changed call setting (DND, forwards, follow-me) at once.

A change through the API or the admin would otherwise reach the PBX with the next configuration
push. ``push_call_settings`` writes the extension's current settings string (the same one the
renderer and the feature-code AGI write, apps/pbx/render/features.py) to AstDB on the tenant's
primary server with AMI ``DBPut``. It reads the extension when it runs, so of several quick
changes the last task writes the newest version; and the dialplan only takes an AstDB value
newer than what it was rendered with, so a late or lost task is harmless: the next push renders
the database anyway.
"""
from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection

logger = logging.getLogger(__name__)


@shared_task(name="telephony.push_call_settings", bind=True, max_retries=3, default_retry_delay=10)
def push_call_settings(self, tenant_id: int, extension_id: int) -> str:
    from django_tenants.utils import schema_context

    from apps.pbx import apply
    from apps.pbx.ami import AmiAuthError, AmiError
    from apps.pbx.render.features import ASTDB_FAMILY, astdb_key
    from apps.telephony.agi_handlers import settings_of
    from apps.telephony.models import Extension
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    tenant = Tenant.objects.select_related("primary_server").filter(pk=tenant_id).first()
    if tenant is None or tenant.primary_server is None:
        return "no server"
    with schema_context(tenant.schema_name):
        ext = Extension.objects.filter(pk=extension_id).first()
        if ext is None:
            return "gone"
        key, value = astdb_key(tenant.slug, ext.number), settings_of(tenant, ext)
    try:
        with apply.connect(tenant.primary_server) as ami:
            ami.action("DBPut", Family=ASTDB_FAMILY, Key=key, Val=value)
    except AmiAuthError:
        logger.warning("call settings of %s: AMI login refused by %s", key, tenant.primary_server.name)
        return "refused"
    except AmiError as exc:
        try:
            raise self.retry(exc=exc)
        except AmiError:  # retries exhausted: the next push renders the setting
            return "unreachable"
    return value


def push_call_settings_later(tenant, extension) -> None:
    """After the current transaction commits, if the tenant has a server (never fails the write)."""
    from django.db import transaction

    if not tenant.primary_server_id:
        return
    tenant_id, extension_id = tenant.pk, extension.pk

    def enqueue():
        try:
            push_call_settings.delay(tenant_id, extension_id)
        except Exception:  # the broker is down: the next push renders the setting
            logger.warning("could not queue the call settings of extension %s", extension_id, exc_info=True)

    transaction.on_commit(enqueue)
