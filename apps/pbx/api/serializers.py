from rest_framework import serializers

from apps.pbx.models import ConfigPush, Location, Server


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ("id", "code", "name", "description", "timezone", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"code": {"validators": []}, "name": {"validators": []}}  # the service answers 409


class ServerSerializer(serializers.ModelSerializer):
    """The full server, for system credentials. ``ami_secret`` is write-only (stored encrypted);
    ``ami_secret_set`` says whether one is stored."""

    location = serializers.SlugRelatedField(slug_field="code", queryset=Location.objects.all(), required=False,
                                            allow_null=True, help_text="Location code.")
    ami_secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200,
                                       style={"input_type": "password"},
                                       help_text="Write-only. Omit (or send empty) to keep the stored secret.")
    ami_secret_set = serializers.SerializerMethodField()
    tenant_count = serializers.SerializerMethodField(help_text="Tenants whose primary server this is.")

    class Meta:
        model = Server
        fields = ("id", "name", "host", "sip_address", "sip_port", "ami_host", "ami_port", "ami_username",
                  "ami_secret", "ami_secret_set", "config_dir", "sounds_dir", "location", "role", "is_active", "tenant_count",
                  "pending_reload", "created_at", "updated_at")
        read_only_fields = ("pending_reload", "created_at", "updated_at")
        extra_kwargs = {"name": {"validators": []}}

    def get_ami_secret_set(self, server) -> bool:
        return bool(server.ami_secret)

    def get_tenant_count(self, server) -> int:
        # Lists annotate it; a server just created or updated is not annotated (the answer to a
        # write still has every documented field).
        count = getattr(server, "tenant_count", None)
        return server.tenants.count() if count is None else count


class ServerSummarySerializer(serializers.ModelSerializer):
    """What resellers and tenants see: enough to choose a primary server and point phones at it."""

    location = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Server
        fields = ("id", "name", "sip_address", "sip_port", "location", "role", "is_active")
        read_only_fields = fields


class ConfigPushSerializer(serializers.ModelSerializer):
    server = serializers.PrimaryKeyRelatedField(read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="Percent done, 0-100.")

    class Meta:
        model = ConfigPush
        fields = ("id", "server", "status", "progress", "stage", "files_changed", "sounds_changed", "modules_reloaded",
                  "checksum",
                  "tenant_count", "attempts", "error", "requested_by", "request_id", "created_at", "started_at",
                  "finished_at")
        read_only_fields = fields


class AmiCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    ami_version = serializers.CharField(allow_null=True)
    latency_ms = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
