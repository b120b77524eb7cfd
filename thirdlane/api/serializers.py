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
