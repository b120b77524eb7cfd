BEAT_SCHEDULE = {
    "sms-requeue-stale": {"task": "sms.requeue_stale", "schedule": 300.0},
}
