"""Event types of billing exports: ``export.completed`` and ``export.failed`` (system events of
the schedule's reseller: system webhooks of the system or of that reseller get them)."""
from apps.events.registry import register_event_type

RUN_SCHEMA = {
    "type": "object",
    "required": ["run_id", "schedule_id", "schedule", "dataset", "status"],
    "properties": {
        "run_id": {"type": "integer"},
        "schedule_id": {"type": "integer"},
        "schedule": {"type": "string"},
        "dataset": {"type": "string", "enum": ["cdrs", "agent_stats", "call_counters"]},
        "format": {"type": "string", "enum": ["csv", "jsonl"]},
        "status": {"type": "string", "enum": ["succeeded", "failed"]},
        "trigger": {"type": "string", "enum": ["schedule", "manual"]},
        "rows": {"type": "integer"},
        "bytes": {"type": "integer"},
        "sha256": {"type": "string"},
        "file_name": {"type": "string"},
        "delivered_to": {"type": "string"},
        "attempts": {"type": "integer"},
        "error": {"type": "string"},
    },
}
_EXAMPLE = {"run_id": 311, "schedule_id": 4, "schedule": "Nightly CDRs", "dataset": "cdrs", "format": "csv",
            "status": "succeeded", "trigger": "schedule", "rows": 18211, "bytes": 2412201,
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "file_name": "cdrs-one-311-20261203.csv", "delivered_to": "s3://billing/cdrs/cdrs-one-311-20261203.csv",
            "attempts": 1, "error": ""}
register_event_type("export.completed", "A scheduled (or run-now) billing export delivered its file.",
                    schema=RUN_SCHEMA, system=True, example=_EXAMPLE)
register_event_type("export.failed", "A billing export failed after its last attempt; the schedule's cursor did "
                    "not move, so the next run exports the same rows again.", schema=RUN_SCHEMA, system=True,
                    example={**_EXAMPLE, "status": "failed", "rows": 18211, "delivered_to": "", "attempts": 5,
                             "error": "S3: Could not connect to the endpoint URL"})
