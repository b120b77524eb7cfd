"""CRM event types: ``crm.<object>.created|updated|deleted`` for every object type, plus lead
conversion, list and campaign membership, and one ``crm.import.completed`` per import."""
from __future__ import annotations

from django.db import models

from apps.crm import models as crm
from apps.events.registry import lifecycle, register_event_type

_JSON_TYPES = {
    models.BooleanField: "boolean", models.IntegerField: "integer", models.BigIntegerField: "integer",
    models.PositiveIntegerField: "integer", models.PositiveSmallIntegerField: "integer",
    models.BigAutoField: "integer", models.ForeignKey: "integer",
}


def _schema(model: type[models.Model]) -> dict:
    """A JSON schema of the event data (the object's fields; relations as ids)."""
    props: dict = {}
    for f in model._meta.concrete_fields:
        name = f.name if not f.is_relation else f.attname
        if isinstance(f, models.JSONField):
            props[name] = {"type": "object", "description": "Custom field values by name."}
        elif f.get_internal_type() == "ArrayField":
            props[name] = {"type": "array", "items": {"type": "string"}}
        elif isinstance(f, (models.DateTimeField,)):
            props[name] = {"type": ["string", "null"], "format": "date-time"}
        elif isinstance(f, models.DateField):
            props[name] = {"type": ["string", "null"], "format": "date"}
        elif isinstance(f, models.DecimalField):
            props[name] = {"type": "string", "description": "Decimal as a string."}
        else:
            kind = next((v for k, v in _JSON_TYPES.items() if isinstance(f, k)), "string")
            props[name] = {"type": [kind, "null"] if f.null else kind}
    return {"type": "object", "required": ["id"], "properties": props}


EXAMPLES = {
    "contact": {"id": 42, "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                "phone": "+14155550100", "mobile": "", "work_phone": "", "account_id": 7, "owner": "sales@acme",
                "tags": ["vip"], "source": "import", "external_id": "SF-0031", "shared_in_directory": True,
                "custom": {"tier": "gold"}, "created_at": "2026-01-05T10:00:00+00:00"},
    "account": {"id": 7, "name": "Analytical Engines Ltd", "phone": "+442079460000", "website": "https://ae.example",
                "custom": {}},
    "lead": {"id": 3, "first_name": "Grace", "last_name": "Hopper", "company": "Navy", "status": "qualified",
             "email": "grace@example.com", "phone": "+12025550143", "custom": {}},
    "list": {"id": 5, "name": "Newsletter", "description": ""},
    "custom_field": {"id": 9, "object_type": "contact", "name": "tier", "label": "Tier", "field_type": "choice",
                     "required": False, "unique": False, "choices": ["gold", "silver"]},
    "activity": {"id": 11, "kind": "call", "subject": "Intro call", "occurred_at": "2026-01-05T10:00:00+00:00",
                 "contact_id": 42, "owner": "sales@acme", "custom": {}},
    "task": {"id": 12, "title": "Send proposal", "due_date": "2026-01-09", "status": "open", "priority": "high",
             "assignee": "sales@acme", "deal_id": 8, "custom": {}},
    "campaign": {"id": 4, "name": "Spring launch", "status": "active", "starts_on": "2026-03-01",
                 "ends_on": "2026-04-01", "custom": {}},
    "deal": {"id": 8, "name": "Acme 50 seats", "stage_id": 2, "amount": "12500.00", "currency": "EUR",
             "account_id": 7, "contact_id": 42, "expected_close": "2026-02-28", "custom": {}},
    "deal_stage": {"id": 2, "name": "Proposal", "position": 1, "probability": 40, "kind": "open"},
    "import_map": {"id": 1, "name": "Salesforce export", "dedupe_on": "email", "on_match": "update",
                   "columns": {"Email": {"field": "email", "transforms": ["trim", "lower"]}}},
}

for noun, model, label in [
    ("contact", crm.Contact, "CRM contact"), ("account", crm.Account, "CRM account"), ("lead", crm.Lead, "CRM lead"),
    ("list", crm.ContactList, "CRM contact list"), ("custom_field", crm.CustomField, "CRM custom field"),
    ("activity", crm.Activity, "CRM activity"), ("task", crm.Task, "CRM task"),
    ("campaign", crm.Campaign, "CRM campaign"), ("deal", crm.Deal, "CRM deal"),
    ("deal_stage", crm.DealStage, "deal pipeline stage"), ("import_map", crm.ImportMap, "CRM import map"),
]:
    lifecycle(f"crm.{noun}", label, schema=_schema(model), example=EXAMPLES[noun])

register_event_type(
    "crm.lead.converted", "A lead was converted into a contact (and possibly an account and a deal).",
    schema={"type": "object", "required": ["id", "contact"], "properties": {
        "id": {"type": "integer"}, "contact": {"type": "integer"}, "account": {"type": ["integer", "null"]},
        "deal": {"type": ["integer", "null"]}}},
    example={"id": 3, "contact": 42, "account": 7, "deal": 8})
_MEMBERS = {"type": "object", "required": ["id", "contacts"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"},
    "contacts": {"type": "array", "items": {"type": "integer"}}}}
register_event_type("crm.list.members_added", "Contacts were added to a list.", schema=_MEMBERS,
                    example={"id": 5, "name": "Newsletter", "contacts": [42, 43]})
register_event_type("crm.list.members_removed", "Contacts were removed from a list.", schema=_MEMBERS,
                    example={"id": 5, "name": "Newsletter", "contacts": [43]})
register_event_type(
    "crm.campaign.members_changed", "Contacts were added to or removed from a campaign, or their status changed.",
    schema={"type": "object", "required": ["id"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "added": {"type": "array", "items": {"type": "integer"}},
        "removed": {"type": "array", "items": {"type": "integer"}},
        "contacts": {"type": "array", "items": {"type": "integer"}},
        "status": {"type": "string"}}},
    example={"id": 4, "name": "Spring launch", "added": [42], "removed": [], "status": "pending"})

IMPORT_SCHEMA = {"type": "object", "required": ["id", "status", "created", "updated", "skipped", "errors"],
                 "properties": {
                     "id": {"type": "integer"}, "status": {"type": "string"}, "mode": {"type": "string"},
                     "file_name": {"type": "string"}, "rows": {"type": "integer"},
                     "created": {"type": "integer"}, "updated": {"type": "integer"},
                     "skipped": {"type": "integer"}, "errors": {"type": "integer"},
                     "url": {"type": "string", "description": "The job's status endpoint."}}}
IMPORT_EXAMPLE = {"id": 17, "status": "completed", "mode": "commit_valid", "file_name": "contacts.csv",
                  "rows": 100000, "created": 49850, "updated": 50000, "skipped": 100, "errors": 50,
                  "url": "/api/crm-imports/acme/17/"}
register_event_type("crm.import.completed",
                    "A contact import finished (one event per import, not one per contact). "
                    "`status` is completed, or failed when nothing was written.",
                    schema=IMPORT_SCHEMA, example=IMPORT_EXAMPLE)
register_event_type("crm.import.undone", "The contacts created by an import were deleted (undo).",
                    schema=IMPORT_SCHEMA, example={**IMPORT_EXAMPLE, "status": "undone", "deleted": 49850})
