"""Per-user call settings changed from a phone (feature codes through FastAGI).

The database is the source of truth: a feature code calls ``call_settings_apply``, which goes
through ``extension_update`` (validation, audit entry, ``config.extension.updated`` event, and a
new ``settings_version``), exactly as an API write does. The PBX is told by the caller (the AGI
handler writes the new value to AstDB), see docs/telephony.md "Per-user call settings".
"""
from __future__ import annotations

from apps.telephony.models import Extension
from apps.telephony.selectors import number_owner
from apps.telephony.services.extensions import extension_update
from apps.telephony.validators import normalize_e164
from thirdlane.api.errors import DomainError, Invalid

# feature -> (field, value); value None means "the digits dialled after the code".
OPERATIONS = {
    "dnd_on": ("dnd", True),
    "dnd_off": ("dnd", False),
    "dnd_toggle": ("dnd", "toggle"),
    "followme_toggle": ("followme_enabled", "toggle"),
    "cf_always_set": ("forward_always", None),
    "cf_always_clear": ("forward_always", ""),
    "cf_busy_set": ("forward_busy", None),
    "cf_busy_clear": ("forward_busy", ""),
    "cf_no_answer_set": ("forward_no_answer", None),
    "cf_no_answer_clear": ("forward_no_answer", ""),
}


def forward_target(tenant, ext: Extension, digits: str) -> str:
    """What a phone dialled after a forward code, as stored: an internal number of the tenant as
    is, anything else read as a phone number in the tenant's region (E.164)."""
    digits = (digits or "").strip()
    if not digits or not all(c.isdigit() or c == "+" for c in digits):
        raise Invalid("Dial the code followed by a number.", field="number")
    if digits == ext.number:
        raise Invalid("An extension does not forward to itself.", field="number")
    if digits.isdigit() and number_owner(digits):
        return digits
    return normalize_e164(digits, region=tenant.default_region, field="number")


def call_settings_apply(*, actor, tenant, extension: Extension, feature: str, argument: str = "") -> Extension:
    """Apply one feature code to ``extension``; returns it updated (or unchanged, same version)."""
    if feature not in OPERATIONS:
        raise DomainError(f"{feature} is not a call-settings feature.", code="validation_error", field="feature")
    field, value = OPERATIONS[feature]
    if value == "toggle":
        value = not getattr(extension, field)
    elif value is None:
        value = forward_target(tenant, extension, argument)
    if field == "followme_enabled" and value and not extension.followme_numbers:
        raise Invalid("Follow-me has no numbers yet (set them in the portal).", field="followme_numbers")
    return extension_update(actor=actor, tenant=tenant, instance=extension, **{field: value})
