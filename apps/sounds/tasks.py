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
