from celery.schedules import crontab

BEAT_SCHEDULE = {
    "sms-requeue-stale": {"task": "sms.requeue_stale", "schedule": 300.0},
    # Retention: SMS_RETENTION_DAYS (messages), SMS_OUTBOUND_REF_RETENTION_DAYS (the outbound index).
    "sms-purge-retention": {"task": "sms.purge_retention", "schedule": crontab(minute=53, hour=3)},
}
