"""CSV import/export of extensions and DIDs (django-import-export).

Imports go through the same services as the API, one row at a time, so every rule holds (number
plan, strength of secrets, platform-wide DIDs, limits, events); a refused row is reported with
its field. Exports never contain secrets, and cells that a spreadsheet would run as a formula
are neutralised with a leading apostrophe (the import strips it again, so a file round-trips).
"""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from apps.pbx.models import Location
from apps.telephony import services
from apps.telephony.models import Did, Extension
from apps.telephony.validators import normalize_e164
from thirdlane.api.errors import DomainError
from thirdlane.csvsafe import neutralise, unneutralise



class CodecsWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return [c for c in re.split(r"[,\s;]+", value or "") if c]

    def render(self, value, obj=None, **kwargs):
        return ",".join(value or [])


def _as_validation_error(exc: DomainError) -> ValidationError:
    if exc.errors:
        return ValidationError({field: [item["message"] for item in items] for field, items in exc.errors.items()})
    return ValidationError(exc.detail)


class ServiceResource(resources.ModelResource):
    """Rows are saved by ``<noun>_create`` / ``<noun>_update``; secret fields are import-only."""

    noun = ""
    secret_fields: tuple[str, ...] = ()

    def __init__(self, *, actor=None, tenant=None, **kwargs):
        super().__init__(**kwargs)
        self.actor, self.tenant = actor, tenant

    def import_data(self, dataset, **kwargs):
        # All or nothing: one refused row rolls the whole file back.
        kwargs.setdefault("rollback_on_validation_errors", True)
        return super().import_data(dataset, **kwargs)

    def before_import_row(self, row, **kwargs):
        for key in list(row.keys()):
            row[key] = unneutralise(row[key])

    def service_data(self, instance, row) -> dict:
        data = {}
        for field in self.get_import_fields():
            name = field.attribute
            if not name or (field.column_name not in row and name not in self.always_fields):
                continue
            data[name] = getattr(instance, name)
        return data

    always_fields: tuple[str, ...] = ()

    def save_instance(self, instance, is_create, row, **kwargs):
        if self.tenant is None:
            raise ValueError("the resource needs the tenant (and actor) to import")
        data = self.service_data(instance, row)
        kw = {"actor": self.actor, "tenant": self.tenant}
        try:
            if is_create:
                saved = getattr(services, f"{self.noun}_create")(**kw, **data)
            else:
                current = type(instance).objects.get(pk=instance.pk)
                saved = getattr(services, f"{self.noun}_update")(**kw, instance=current, **data)
        except DomainError as exc:
            raise _as_validation_error(exc) from None
        instance.pk = saved.pk

    def get_export_order(self):
        # The admin's export form offers these names: secrets are not even offered.
        return tuple(name for name in super().get_export_order() if name not in self.secret_fields)

    def get_export_fields(self, selected_fields=None):
        return [f for f in super().get_export_fields(selected_fields) if f.attribute not in self.secret_fields]

    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))


class ExtensionResource(ServiceResource):
    noun = "extension"
    secret_fields = ("sip_secret", "voicemail_pin")
    always_fields = ("number", "name")
    location = fields.Field(attribute="location", column_name="location",
                            widget=widgets.ForeignKeyWidget(Location, field="code"))
    codecs = fields.Field(attribute="codecs", column_name="codecs", widget=CodecsWidget())

    class Meta:
        model = Extension
        import_id_fields = ("number",)
        fields = ("number", "name", "email", "sip_secret", "location", "caller_id_name", "caller_id_number",
                  "voicemail_enabled", "voicemail_pin", "forward_always", "forward_busy", "forward_no_answer",
                  "ring_time", "dnd", "max_contacts", "codecs", "recording_inbound", "recording_outbound", "enabled")
        skip_unchanged = False
        clean_model_instances = False


class DidResource(ServiceResource):
    noun = "did"
    always_fields = ("number",)

    class Meta:
        model = Did
        import_id_fields = ("number",)
        fields = ("number", "description", "dest_type", "dest_id", "dest_number", "caller_id_prefix", "enabled",
                  "sms_enabled")

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        region = getattr(self.tenant, "default_region", "US")
        try:  # match existing rows on the E.164 form of the number
            row["number"] = normalize_e164(str(row.get("number") or ""), region=region)
        except DomainError:
            pass  # the service reports it on the row

    def service_data(self, instance, row) -> dict:
        data = super().service_data(instance, row)
        dest = {k[5:]: data.pop(k) for k in ("dest_type", "dest_id", "dest_number") if k in data}
        if dest:
            data["dest"] = dest
        return data
