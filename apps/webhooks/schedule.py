from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Relays what a lost nudge missed and re-nudges due deliveries (retries, crashed workers).
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 5.0},
    # Retention: deliveries and attempts older than WEBHOOK_RETENTION_DAYS (30).
    "webhooks-purge": {"task": "webhooks.purge", "schedule": crontab(minute=17, hour=3)},
}
