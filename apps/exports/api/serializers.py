from rest_framework import serializers

from apps.exports.models import ExportRun, ExportSchedule
from apps.tenants.models import Reseller, Tenant

DESTINATION_SCHEMA_DOC = (
    "By `destination_type`: http `{\"url\"}` (the file is POSTed, signed like webhooks with `secret`); s3 "
    "`{\"bucket\", \"prefix\", \"endpoint_url\", \"region\", \"access_key_id\"}` (`secret`: the secret access key); "
    "sftp `{\"host\", \"port\", \"username\", \"path\", \"host_key\"}` (`secret`: the password; `host_key` pins the "
    "server's key as in known_hosts); directory `{\"path\"}` (a folder inside the server's export directory).")


class ExportScheduleSerializer(serializers.ModelSerializer):
    reseller = serializers.SlugRelatedField(slug_field="slug", queryset=Reseller.objects.all(), required=False,
                                            help_text="Reseller slug; defaults to the caller's reseller, or the "
                                                      "tenant's.")
    tenant = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), required=False,
                                          allow_null=True, help_text="One tenant (slug); empty: every tenant of "
                                                                     "the reseller.")
    destination = serializers.DictField(help_text=DESTINATION_SCHEMA_DOC)
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500,
                                   style={"input_type": "password"}, help_text="Write-only; empty keeps the stored one.")
    has_secret = serializers.SerializerMethodField()
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = ExportSchedule
        fields = ("id", "name", "reseller", "tenant", "dataset", "format", "cron", "timezone", "destination_type",
                  "destination", "secret", "has_secret", "enabled", "max_attempts", "next_run_at", "last_success_at",
                  "last_run", "cursors", "created_by", "created_at", "updated_at")
        read_only_fields = ("next_run_at", "last_success_at", "cursors", "created_by", "created_at", "updated_at")

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)

    def get_last_run(self, obj) -> dict | None:
        run = obj.runs.order_by("-created_at", "-id").first()
        return ExportRunSerializer(run).data if run else None

    def validate_reseller(self, reseller):
        if not self.context["request"].auth.can_see_reseller(reseller.pk):
            raise serializers.ValidationError("No such reseller.", code="does_not_exist")
        return reseller

    def validate_tenant(self, tenant):
        if tenant is not None and not self.context["request"].auth.can_see_tenant(tenant):
            raise serializers.ValidationError("No such tenant.", code="does_not_exist")
        return tenant


class ExportRunSerializer(serializers.ModelSerializer):
    schedule = serializers.PrimaryKeyRelatedField(read_only=True)
    download = serializers.SerializerMethodField(help_text="The run's file, while it is kept.")

    class Meta:
        model = ExportRun
        fields = ("id", "uid", "schedule", "status", "trigger", "stage", "progress", "rows", "bytes", "sha256",
                  "file_name", "download", "cursor_from", "cursor_to", "period_start", "period_end", "attempts",
                  "error", "requested_by", "created_at", "started_at", "finished_at")
        read_only_fields = fields

    def get_download(self, obj) -> str | None:
        if not obj.file_path:
            return None
        return f"/api/export-runs/{obj.pk}/download/"
