BEAT_SCHEDULE = {
    "pbx-start-queued-pushes": {"task": "pbx.start_queued_pushes", "schedule": 120.0},
}
