BEAT_SCHEDULE = {
    # Starts due export runs (cron per schedule) and takes over runs a worker died in.
    "exports-dispatch": {"task": "exports.dispatch", "schedule": 60.0},
}
