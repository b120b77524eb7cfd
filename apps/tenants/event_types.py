from apps.events.registry import register_event_type

TENANT_SCHEMA = {
    "type": "object",
    "required": ["id", "slug", "name", "status", "reseller"],
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "suspended"]},
        "reseller": {"type": "object", "properties": {"id": {"type": "integer"}, "slug": {"type": "string"}}},
        "primary_server": {"type": ["string", "null"]},
        "max_extensions": {"type": "integer"},
    },
}
TENANT_EXAMPLE = {
    "id": 7, "slug": "acme", "name": "Acme Corp", "status": "active",
    "reseller": {"id": 1, "slug": "voip-one"}, "primary_server": "pbx-eu-1", "max_extensions": 100,
}

for verb, text in [
    ("created", "A tenant was created."),
    ("updated", "A tenant's settings changed."),
    ("suspended", "A tenant was suspended: its keys are refused and its phones should stop."),
    ("resumed", "A suspended tenant was resumed."),
    ("deleted", "A tenant and all its data were deleted."),
]:
    register_event_type(f"tenant.{verb}", text, schema=TENANT_SCHEMA, example=TENANT_EXAMPLE, system=True)
