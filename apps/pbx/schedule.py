BEAT_SCHEDULE = {
    "pbx-start-queued-pushes": {"task": "pbx.start_queued_pushes", "schedule": 120.0},
    # Configuration changes reach the PBX within a minute without anyone pressing "apply".
    "pbx-push-changed-servers": {"task": "pbx.push_changed_servers", "schedule": 60.0},
    "pbx-prune-pushes": {"task": "pbx.prune_pushes", "schedule": 24 * 3600.0},
}
