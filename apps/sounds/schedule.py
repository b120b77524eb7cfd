BEAT_SCHEDULE = {
    # A conversion whose message was lost (broker down when the upload committed) is queued again.
    "sounds-requeue-stalled": {"task": "sounds.requeue_stalled", "schedule": 300.0},
}
