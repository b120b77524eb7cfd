from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Retention: each tenant's cdr_retention_days / call_retention_days, deleted in batches.
    "billing-purge-retention": {"task": "billing.purge_retention", "schedule": crontab(minute=41, hour=3)},
}
