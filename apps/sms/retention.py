"""Retention: SMS messages older than ``SMS_RETENTION_DAYS`` and the public outbound index
(``SmsOutboundRef``) older than ``SMS_OUTBOUND_REF_RETENTION_DAYS`` are deleted in batches.

Like apps/billing/retention.py: each batch is one short transaction deleting at most ``batch``
rows (oldest first), so a purge of millions of rows never holds a long lock and can stop and
resume anywhere. A setting of 0 keeps rows forever. A message still ``queued`` is never purged
(the drain owns it). The index row of a message only routes its delivery receipts, which come
within hours, so it is kept for a shorter time by default, and never longer than the messages.
Opt-outs are consent records and are not purged.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.sms.models import SmsMessage
from apps.sms.providers.models import SmsOutboundRef
from apps.tenants.crossschema import table
from thirdlane.batches import delete_in_batches

logger = logging.getLogger(__name__)

BATCH = 5000


def _days(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    return int(value if value is not None else os.environ.get(name, default))


def message_days() -> int:
    """``SMS_RETENTION_DAYS`` (settings or environment; default 0: messages are kept)."""
    return _days("SMS_RETENTION_DAYS", 0)


def ref_days() -> int:
    """``SMS_OUTBOUND_REF_RETENTION_DAYS`` (default 30), never more than the messages' retention."""
    days, messages = _days("SMS_OUTBOUND_REF_RETENTION_DAYS", 30), message_days()
    if messages and (not days or messages < days):
        return messages
    return days


@dataclass
class Purged:
    messages: int = 0
    refs: int = 0
    batches: int = 0


def _batches(sql: str, params: list, purged: Purged) -> int:
    deleted, batches = delete_in_batches(sql, params)
    purged.batches += batches
    return deleted


def purge_tenant(tenant, *, now=None, batch: int = BATCH, purged: Purged | None = None) -> Purged:
    """The tenant's messages past ``SMS_RETENTION_DAYS`` (not those still queued)."""
    purged = purged or Purged()
    days = message_days()
    if days:
        cutoff = (now or timezone.now()) - timedelta(days=days)
        t = table(SmsMessage, tenant.schema_name)
        deleted = _batches(
            f"DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE created_at < %s AND status <> 'queued' "
            f"ORDER BY id LIMIT %s)", [cutoff, batch], purged)
        purged.messages += deleted
        if deleted:
            logger.info("retention: %s SMS messages of %s deleted", deleted, tenant.slug)
    return purged


def purge_refs(*, now=None, batch: int = BATCH, purged: Purged | None = None) -> Purged:
    """The public outbound index past ``SMS_OUTBOUND_REF_RETENTION_DAYS`` (every tenant at once)."""
    purged = purged or Purged()
    days = ref_days()
    if days:
        cutoff = (now or timezone.now()) - timedelta(days=days)
        t = SmsOutboundRef._meta.db_table
        purged.refs += _batches(
            f"DELETE FROM {t} WHERE ref IN (SELECT ref FROM {t} WHERE created_at < %s ORDER BY created_at LIMIT %s)",
            [cutoff, batch], purged)
        if purged.refs:
            logger.info("retention: %s SMS outbound index rows deleted", purged.refs)
    return purged


def purge_all(*, now=None, batch: int = BATCH) -> Purged:
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    purged = Purged()
    if message_days():
        for tenant in Tenant.objects.exclude(schema_name="public").order_by("slug"):
            purge_tenant(tenant, now=now, batch=batch, purged=purged)
    return purge_refs(now=now, batch=batch, purged=purged)
