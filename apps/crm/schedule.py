BEAT_SCHEDULE = {
    "crm-purge-import-files": {"task": "crm.purge_import_files", "schedule": 6 * 3600.0},
}
