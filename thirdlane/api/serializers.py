"""Serializer pieces shared by platform resources."""
from __future__ import annotations

from rest_framework import serializers


class ResellerOwnedMixin:
    """For objects owned by a reseller (tenants, organizations): a reseller outside the caller's
    scope does not exist for it; a new object defaults to the caller's reseller; only system
    credentials move an object to another reseller."""

    owned_noun = "object"

    def validate_reseller(self, reseller):
        if not self.context["request"].auth.can_see_reseller(reseller.pk):
            raise serializers.ValidationError("No such reseller.", code="does_not_exist")
        return reseller

    def validate(self, attrs):
        from apps.tenants.models import Reseller

        attrs = super().validate(attrs)
        principal = self.context["request"].auth
        if self.instance is None and "reseller" not in attrs:
            if principal.reseller_id is None:
                raise serializers.ValidationError({"reseller": ["This field is required."]}, code="required")
            attrs["reseller"] = Reseller.objects.get(pk=principal.reseller_id)
        if self.instance is not None and "reseller" in attrs and not principal.is_system \
                and attrs["reseller"].pk != self.instance.reseller_id:
            raise serializers.ValidationError({"reseller": [f"Only system admins can move a {self.owned_noun}."]})
        return attrs


def unknown_fields(serializer, data, prefix: str = "") -> list[str]:
    """Names in ``data`` that ``serializer`` has no field for, nested ones dotted (``members[2].bogus``).

    Read-only fields are known: a client may PUT back what it read. Dict fields and JSON fields
    take any keys and are not looked into.
    """
    if isinstance(serializer, serializers.ListSerializer):
        if not isinstance(data, list):
            return []
        found = []
        for index, item in enumerate(data):
            found += unknown_fields(serializer.child, item, f"{prefix}[{index}]")
        return found
    if not isinstance(serializer, serializers.Serializer) or not hasattr(data, "keys"):
        return []
    fields = serializer.fields
    found = []
    for name in data.keys():
        key = f"{prefix}.{name}" if prefix else str(name)
        field = fields.get(name)
        if field is None:
            found.append(key)
        elif isinstance(field, (serializers.Serializer, serializers.ListSerializer)):
            found += unknown_fields(field, data[name], key)
    return found


def reject_unknown_fields(serializer, data) -> None:
    """400 ``validation_error`` with an ``unknown_field`` error per field the resource does not have:
    a misspelt field must not be silently dropped."""
    from rest_framework.exceptions import ValidationError

    unknown = unknown_fields(serializer, data)
    if unknown:
        errors: dict = {}
        for name in unknown:
            errors[name] = [serializers.ErrorDetail("Not a field of this resource.", code="unknown_field")]
        raise ValidationError(errors)
