"""Organization events. All are system events: provisioning automation follows them platform-wide."""
from apps.events.registry import lifecycle, register_event_type

ORGANIZATION_SCHEMA = {
    "type": "object",
    "required": ["id", "slug", "name", "reseller"],
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "reseller": {"type": "object", "properties": {"id": {"type": "integer"}, "slug": {"type": "string"}}},
        "member_count": {"type": "integer"},
    },
}
ORGANIZATION_EXAMPLE = {
    "id": 3, "slug": "acme-group", "name": "Acme Group", "description": "",
    "reseller": {"id": 1, "slug": "voip-one"}, "member_count": 2,
}
MEMBER_SCHEMA = {
    "type": "object",
    "required": ["organization", "tenant", "site_code"],
    "properties": {
        "organization": {"type": "object", "properties": {
            "id": {"type": "integer"}, "slug": {"type": "string"}, "name": {"type": "string"}}},
        "tenant": {"type": "object", "properties": {"id": {"type": "integer"}, "slug": {"type": "string"}}},
        "site_code": {"type": "string", "pattern": "^[0-9]{1,6}$"},
        "location": {"type": ["string", "null"], "description": "Location code."},
        "address": {"type": "string"},
        "timezone": {"type": "string"},
    },
}
MEMBER_EXAMPLE = {
    "organization": {"id": 3, "slug": "acme-group", "name": "Acme Group"},
    "tenant": {"id": 7, "slug": "acme-paris"}, "site_code": "33", "location": "eu-par",
    "address": "1 rue de Rivoli, Paris", "timezone": "Europe/Paris",
}

lifecycle("organization", "organization (multi-site enterprise)", schema=ORGANIZATION_SCHEMA,
          example=ORGANIZATION_EXAMPLE, system=True)
register_event_type("organization.member.added", "A tenant joined an organization as one of its sites.",
                    schema=MEMBER_SCHEMA, example=MEMBER_EXAMPLE, system=True, group="organization")
register_event_type("organization.member.updated", "A member site's code, location, address or time zone changed.",
                    schema=MEMBER_SCHEMA, example=MEMBER_EXAMPLE, system=True, group="organization")
register_event_type("organization.member.removed",
                    "A tenant left an organization (the tenant itself is kept).",
                    schema=MEMBER_SCHEMA, example=MEMBER_EXAMPLE, system=True, group="organization")
