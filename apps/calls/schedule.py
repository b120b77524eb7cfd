BEAT_SCHEDULE = {
    "calls-expire-control-jobs": {"task": "calls.expire_control_jobs", "schedule": 60.0},
}
