"""Celery tasks of the sounds app."""
from __future__ import annotations

from celery import shared_task
from django.db import connection


@shared_task(name="sounds.convert", ignore_result=True)
def convert(tenant_id: int, sound_id: int) -> str:
    """Speak (text to speech) and convert one sound to the formats Asterisk plays; the row shows
    the progress and ends ``ready`` or ``failed`` with the error."""
    from apps.sounds import services

    connection.set_schema_to_public()
    try:
        return services.convert(tenant_id, sound_id)
    finally:
        connection.set_schema_to_public()


STALLED_AFTER = 600  # seconds a sound may wait for its conversion before it is queued again
_CHUNK = 100  # schemas per statement


@shared_task(name="sounds.requeue_stalled", ignore_result=True)
def requeue_stalled() -> int:
    """Beat: queue ``sounds.convert`` again for sounds still pending (or converting: a worker died
    without the broker redelivering) STALLED_AFTER seconds after their last change. One UNION ALL
    statement per 100 tenant schemas; the conversion itself skips sounds that finished meanwhile."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.sounds.models import SoundFile
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    tenants = list(Tenant.objects.order_by("pk").values_list("pk", "schema_name"))
    before = timezone.now() - timedelta(seconds=STALLED_AFTER)
    table = SoundFile._meta.db_table
    queued = 0
    with connection.cursor() as cursor:
        for start in range(0, len(tenants), _CHUNK):
            group = tenants[start:start + _CHUNK]
            sql = " UNION ALL ".join(
                f'SELECT {int(pk)}::bigint, id FROM "{schema}"."{table}" WHERE status IN (%s, %s) AND updated_at < %s'
                for pk, schema in group)
            params = []
            for _ in group:
                params += [SoundFile.Status.PENDING, SoundFile.Status.CONVERTING, before]
            cursor.execute(sql, params)
            for tenant_id, sound_id in cursor.fetchall():
                convert.delay(tenant_id, sound_id)
                queued += 1
    return queued
