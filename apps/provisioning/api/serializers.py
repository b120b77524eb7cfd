"""Phones API serializers: shape and field-validate; the services check MACs, models and lines.

``password`` (the phone's provisioning password) and ``admin_password`` are write-only. A phone
created without a password gets a generated one, shown once in ``new_password`` of that
response (and of ``regenerate-credential``); everywhere else ``new_password`` is null.
"""
from __future__ import annotations

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.provisioning import catalog, credentials
from apps.provisioning.models import Phone
from apps.provisioning.render import provisioning_url


# The MACs the service accepts, for the OpenAPI document: 12 hex digits in pairs, optionally separated
# by ":", "-" or ".", the first octet even (not multicast), not all zeros. The service
# (macs.normalize) is the authority and answers 400 invalid_mac.
MAC_PATTERN = r"^\s*(?!0{2}(?:[:.-]?0{2}){5}\s*$)[0-9A-Fa-f][02468ACEace](?:[:.-]?[0-9A-Fa-f]{2}){5}\s*$"


@extend_schema_field({"type": "string", "pattern": MAC_PATTERN, "maxLength": 23, "examples": ["00:15:65:AB:CD:EF"]})
class MacField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": credentials.PASSWORD_PATTERN, "maxLength": 64,
                     "writeOnly": True})
class PasswordField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": credentials.ADMIN_PASSWORD_PATTERN, "maxLength": 32,
                     "writeOnly": True})
class AdminPasswordField(serializers.CharField):
    pass


# Text that ends up in a phone's configuration file is one line (the service refuses control characters).
ONE_LINE = RegexValidator(r"^[^\x00-\x1f\x7f]*$", "Control characters (line breaks, tabs) are not allowed.")


class PhoneLineSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, max_value=64, required=False,
                                        help_text="SIP account (line key) of the phone, from 1; default: the next "
                                                  "free one in list order.")
    extension = serializers.IntegerField(min_value=1, help_text="Extension id (in this tenant).")
    label = serializers.CharField(required=False, allow_blank=True, max_length=40, validators=[ONE_LINE],
                                  help_text="Shown on the phone; empty: the extension's number and name.")
    number = serializers.CharField(read_only=True, help_text="The extension's number.")
    phone_username = serializers.CharField(read_only=True, help_text="The PJSIP endpoint the line registers as.")

    def to_representation(self, line):
        tenant = self.context.get("tenant")
        return {"position": line.position, "extension": line.extension_id, "label": line.label,
                "number": line.extension.number,
                "phone_username": line.extension.phone_username_for(tenant.slug) if tenant else ""}


class ProvisioningInfoSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The provisioning URL to give the phone (DHCP option 66, the phone's "
                                          "web interface, or the vendor's redirection service).")
    username = serializers.CharField(help_text="What the phone authenticates with: its MAC address.")
    files = serializers.ListField(child=serializers.CharField(), help_text="The files the phone fetches.")


class PhoneSerializer(serializers.ModelSerializer):
    mac = MacField(max_length=23, help_text="MAC address in any usual spelling (00:15:65:AB:CD:EF, "
                                                         "0015.65ab.cdef ...); read back as 12 lower-case hex digits. "
                                                         "Unique across the platform.")
    vendor = serializers.ChoiceField(choices=catalog.vendor_choices(), required=False,
                                     help_text="Default: the model's vendor.")
    model = serializers.ChoiceField(choices=catalog.model_choices())
    lines = PhoneLineSerializer(many=True, required=False)
    password = PasswordField(write_only=True, required=False, allow_blank=True, max_length=64,
                                     style={"input_type": "password"},
                                     help_text="Write-only provisioning password (16-64 characters with lower-case "
                                               "and upper-case letters and digits). Generated when absent; a new one "
                                               "keeps the old one valid for the grace period.")
    admin_password = AdminPasswordField(write_only=True, required=False, allow_blank=True, max_length=32,
                                           style={"input_type": "password"},
                                           help_text="Write-only password of the phone's web interface (8-32 letters "
                                                     "and digits, both). Generated when absent.")
    new_password = serializers.SerializerMethodField(
        help_text="The generated provisioning password, only in the response of the create that generated it; "
                  "null otherwise.")
    provisioning = serializers.SerializerMethodField()
    last_seen_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                             help_text="When the phone last fetched a configuration file.")
    last_seen_ip = serializers.IPAddressField(read_only=True, allow_null=True)

    class Meta:
        model = Phone
        fields = ("id", "mac", "vendor", "model", "name", "enabled", "lines", "password", "admin_password",
                  "new_password", "provisioning", "last_seen_at", "last_seen_ip", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"name": {"validators": [ONE_LINE]}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read now, not at import: PROVISIONING_EXTRA_MODELS may add models.
        self.fields["model"].choices = catalog.model_choices()

    def get_new_password(self, obj) -> str | None:
        return getattr(obj, "generated_password", None)

    @extend_schema_field(ProvisioningInfoSerializer)
    def get_provisioning(self, obj) -> dict:
        request = self.context.get("request")
        return {"url": provisioning_url(request), "username": obj.mac, "files": catalog.files_for(obj.vendor, obj.mac)}


class RegenerateCredentialSerializer(serializers.Serializer):
    grace_hours = serializers.IntegerField(required=False, min_value=0, max_value=168,
                                           help_text="How long the previous password keeps working (default: "
                                                     "the platform's PROVISIONING_CREDENTIAL_GRACE_HOURS, 24); 0 "
                                                     "revokes it at once.")


class CredentialSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="The phone's MAC address.")
    password = serializers.CharField(help_text="The new provisioning password. Shown once.")
    provisioning_url = serializers.CharField()
