from rest_framework import serializers

from apps.organizations.models import Organization, OrganizationMember
from apps.pbx.models import Location
from apps.tenants.models import Reseller, Tenant
from thirdlane.api.serializers import ResellerOwnedMixin


class OrganizationSerializer(ResellerOwnedMixin, serializers.ModelSerializer):
    owned_noun = "organization"
    reseller = serializers.SlugRelatedField(slug_field="slug", queryset=Reseller.objects.all(), required=False,
                                            help_text="Reseller slug. Defaults to the caller's reseller.")
    member_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Organization
        fields = ("id", "name", "slug", "reseller", "description", "member_count", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"slug": {"validators": []}}  # uniqueness is the service's (409 duplicate)


class ScopedTenantField(serializers.SlugRelatedField):
    """A tenant slug, resolved only among the tenants the caller may see (others do not exist)."""

    def get_queryset(self):
        request = self.context.get("request")
        queryset = Tenant.objects.select_related("reseller")
        return request.auth.visible_tenants(queryset) if request is not None and request.auth else queryset.none()


class OrganizationMemberSerializer(serializers.ModelSerializer):
    tenant = ScopedTenantField(slug_field="slug", help_text="Slug of the member tenant.")
    tenant_name = serializers.CharField(source="tenant.name", read_only=True)
    location = serializers.SlugRelatedField(slug_field="code", queryset=Location.objects.all(), required=False,
                                            allow_null=True, help_text="Location code.")

    class Meta:
        model = OrganizationMember
        fields = ("tenant", "tenant_name", "site_code", "location", "address", "timezone", "created_at",
                  "updated_at")
        read_only_fields = ("created_at", "updated_at")
        validators = []  # uniqueness and membership rules are the service's (409 with a code)


class OrganizationMemberUpdateSerializer(OrganizationMemberSerializer):
    tenant = serializers.CharField(source="tenant.slug", read_only=True)

    class Meta(OrganizationMemberSerializer.Meta):
        read_only_fields = ("tenant", "created_at", "updated_at")


class OrganizationSiteSerializer(serializers.Serializer):
    tenant = serializers.CharField(source="tenant.slug")
    name = serializers.CharField(source="tenant.name")
    site_code = serializers.CharField()
    location = serializers.SerializerMethodField()
    address = serializers.CharField()
    timezone = serializers.CharField(source="effective_timezone")
    primary_server = serializers.SerializerMethodField()
    extension_count = serializers.IntegerField()
    status = serializers.CharField(source="tenant.status")

    def get_location(self, member) -> dict | None:
        location = member.location or (member.tenant.primary_server.location if member.tenant.primary_server else None)
        return {"code": location.code, "name": location.name} if location else None

    def get_primary_server(self, member) -> str | None:
        return member.tenant.primary_server.name if member.tenant.primary_server_id else None


class DirectoryEntrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=("extension", "contact", "queue"))
    id = serializers.IntegerField(help_text="Id of the object in its tenant.")
    name = serializers.CharField()
    number = serializers.CharField(help_text="Extension or queue number; a contact's phone.")
    intersite_number = serializers.CharField(
        help_text="What another member dials: site code + number (extensions and queues).")
    email = serializers.CharField()
    company = serializers.CharField(help_text="Contacts only.")
    phone_username = serializers.CharField(allow_null=True, help_text="Extensions only: the PJSIP user name.")
    site_code = serializers.CharField()
    tenant = serializers.CharField(help_text="Slug of the member tenant.")
    site_name = serializers.CharField()
