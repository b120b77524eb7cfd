"""Platform admin for webhooks: subscriptions (tenant and system), deliveries and attempts.

Rows are limited to the user's scope (a reseller sees its tenants' webhooks and its own system
webhooks). Writes go through apps.webhooks.services, like the API. Secrets are never shown: a
new subscription's secret is displayed once in the success message, and rotation shows the new
one the same way.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from apps.webhooks import services
from apps.webhooks.models import Attempt, Delivery, Subscription
from thirdlane.admin import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedModelAdmin, principal_for
from thirdlane.admin_display import short_date, short_datetime, truncated
from thirdlane.api.errors import DomainError


def _owners(prefix: str = "") -> dict[str, str]:
    """A subscription is owned by its tenant or its reseller (``Principal.scope_q`` paths)."""
    p = f"{prefix}__" if prefix else ""
    return {"tenant": f"{p}tenant", "reseller": f"{p}reseller"}


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    event_types_text = forms.CharField(
        label="Event selectors", required=False,
        help_text="Comma-separated: exact types, groups such as crm.* or config.extension.*, or *.")
    headers_text = forms.CharField(label="Custom headers", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text="One per line: Name: value")

    class Meta:
        model = Subscription
        fields = ("kind", "tenant", "reseller", "url", "description", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["event_types_text"].initial = ", ".join(self.instance.event_types)
            self.fields["headers_text"].initial = "\n".join(f"{k}: {v}" for k, v in self.instance.headers.items())

    def clean_event_types_text(self):
        return [s.strip() for s in self.cleaned_data["event_types_text"].split(",") if s.strip()]

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or self.instance.kind
        fields = {"event_types": data.get("event_types_text", []), "headers": data.get("headers_text", {})}
        if data.get("url") and (not self.instance.pk or data["url"] != self.instance.url):
            fields["url"] = data["url"]
        if kind == Subscription.Kind.TENANT and not data.get("tenant"):
            self.add_error("tenant", "A tenant webhook needs its tenant.")
        try:
            services.validate_fields(fields, kind=kind)
        except DomainError as exc:
            for name, errors in (exc.errors or {"url": [{"message": exc.detail}]}).items():
                target = {"event_types": "event_types_text", "headers": "headers_text"}.get(name, name)
                self.add_error(target if target in self.fields else None, errors[0]["message"])
        return data

    def clean_headers_text(self):
        headers = {}
        for line in self.cleaned_data["headers_text"].splitlines():
            if line.strip():
                name, _, value = line.partition(":")
                headers[name.strip()] = value.strip()
        return headers


class AttemptInline(ScopedAdminMixin, admin.TabularInline):
    """Read-only: the attempts of a delivery, with the same role-based permissions."""

    model = Attempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "succeeded", "status_code", "duration_ms", "error", "response_excerpt", "address")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ScopedModelAdmin):
    form = SubscriptionForm
    list_display = ("endpoint", "owner", "selectors", "state", "created")
    list_filter = ("kind", "enabled", "disabled_reason", "reseller")
    search_fields = ("url", "description", "tenant__slug", "tenant__name")
    list_select_related = ("tenant", "reseller")
    autocomplete_fields = ("tenant", "reseller")
    readonly_fields = ("disabled_reason", "disabled_at", "failing_since", "previous_secret_expires_at", "created_by",
                       "created_at", "updated_at", "deliveries_link")
    actions = ("send_test", "rotate_secrets", "enable", "disable")

    scope_fields = _owners()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["kind", "tenant", "reseller"] if obj is not None else fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        principal = principal_for(request)
        if not principal.is_system and "tenant" in form.base_fields:
            from apps.tenants.models import Reseller, Tenant

            form.base_fields["tenant"].queryset = principal.visible_tenants(Tenant.objects.all())
            form.base_fields["reseller"].queryset = Reseller.objects.filter(pk=principal.reseller_id)
        return form

    @admin.display(description="Owner")
    def owner(self, obj):
        if obj.kind == Subscription.Kind.TENANT:
            return obj.tenant.slug
        return f"reseller {obj.reseller.slug}" if obj.reseller_id else "all tenants"

    @admin.display(description="Selectors")
    def selectors(self, obj):
        return truncated(", ".join(obj.event_types) or "*", "16em")

    @admin.display(description="Endpoint", ordering="url")
    def endpoint(self, obj):
        return truncated(obj.url, "24em")

    @admin.display(description="State", ordering="enabled")
    def state(self, obj):
        if not obj.enabled:
            reason = obj.get_disabled_reason_display() if obj.disabled_reason else ""
            return format_html('<span class="tl-bad">disabled</span>{}', f" ({reason})" if reason else "")
        if obj.failing_since:
            return format_html('<span class="tl-warn">failing since {}</span>', short_datetime(obj.failing_since))
        return format_html('<span class="tl-ok">{}</span>', "enabled")

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj):
        return short_date(obj.created_at)

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj):
        if not obj.pk:
            return "-"
        return format_html('<a href="../../delivery/?subscription__id__exact={}">Delivery log</a>', obj.pk)

    def save_model(self, request, obj, form, change):
        actor = principal_for(request)
        data = {"url": obj.url, "description": obj.description, "enabled": obj.enabled,
                "event_types": form.cleaned_data["event_types_text"], "headers": form.cleaned_data["headers_text"]}
        try:
            if change:
                services.subscription_update(actor=actor, instance=obj, **data)
            else:
                reseller = obj.reseller
                if obj.kind == Subscription.Kind.SYSTEM and not actor.is_system:
                    # A reseller's system webhook covers its own tenants, never every tenant.
                    if not actor.reseller_id:
                        self.message_user(request, "Only system and reseller admins add system webhooks.",
                                          messages.ERROR)
                        return
                    from apps.tenants.models import Reseller

                    reseller = Reseller.objects.get(pk=actor.reseller_id)
                created = services.subscription_create(actor=actor, kind=obj.kind, tenant=obj.tenant,
                                                       reseller=reseller, **data)
                obj.pk = created.pk
                self.message_user(request, f"Signing secret (shown once): {created.secret}", messages.WARNING)
        except DomainError as exc:
            self.message_user(request, f"Not saved: {exc.detail}", messages.ERROR)

    def delete_model(self, request, obj):
        services.subscription_delete(actor=principal_for(request), instance=obj)

    @admin.action(description="Send a test event (the first selected type, or tenant.updated)")
    def send_test(self, request, queryset):
        from apps.webhooks.matching import types_selected

        for sub in queryset:
            types = types_selected(sub.event_types or ["*"], system_only=sub.kind == Subscription.Kind.SYSTEM)
            event_type = types[0] if types else "tenant.updated"
            attempt = services.subscription_test(actor=principal_for(request), instance=sub, event_type=event_type)
            level = messages.SUCCESS if attempt.succeeded else messages.ERROR
            self.message_user(request, f"#{sub.pk} {event_type}: {attempt.status_code or attempt.error} in "
                                       f"{attempt.duration_ms} ms", level)

    @admin.action(description="Rotate signing secrets (old ones keep signing for 24 h)")
    def rotate_secrets(self, request, queryset):
        for sub in queryset:
            sub = services.subscription_rotate_secret(actor=principal_for(request), instance=sub)
            self.message_user(request, f"#{sub.pk} new secret (shown once): {sub.secret}", messages.WARNING)

    @admin.action(description="Enable")
    def enable(self, request, queryset):
        for sub in queryset:
            services.subscription_update(actor=principal_for(request), instance=sub, enabled=True)

    @admin.action(description="Disable")
    def disable(self, request, queryset):
        for sub in queryset:
            services.subscription_update(actor=principal_for(request), instance=sub, enabled=False)

    def get_actions(self, request):
        return {} if principal_for(request).read_only else super().get_actions(request)


@admin.register(Delivery)
class DeliveryAdmin(ScopedModelAdmin):
    list_display = ("id", "event_type", "endpoint", "status", "tries", "next_attempt", "created")
    list_filter = ("status", "is_test", "subscription__kind", "event_type")
    search_fields = ("event_type", "message_id", "subscription__url", "subscription__tenant__slug")
    list_select_related = ("subscription", "subscription__tenant", "subscription__reseller")

    @admin.display(description="Endpoint", ordering="subscription__url")
    def endpoint(self, obj):
        return truncated(obj.subscription.url, "14em")

    @admin.display(description="Attempts (last HTTP status)", ordering="attempt_count")
    def tries(self, obj):
        return f"{obj.attempt_count} ({obj.last_status_code})" if obj.last_status_code else str(obj.attempt_count)

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, obj):
        return short_datetime(obj.next_attempt_at)

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj):
        return short_datetime(obj.created_at)

    readonly_fields = ("subscription", "event", "event_type", "message_id", "is_test", "payload", "status",
                       "attempt_count", "next_attempt_at", "nudged_at", "last_attempt_at", "delivered_at",
                       "last_status_code", "last_error", "created_at")
    fields = readonly_fields
    inlines = (AttemptInline,)
    actions = ("resend",)
    date_hierarchy = "created_at"

    scope_fields = _owners("subscription")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Resend now")
    def resend(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                services.delivery_resend(actor=principal_for(request), delivery=delivery)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{delivery.pk}: {exc.detail}", messages.WARNING)
        if done:
            self.message_user(request, f"Queued {done} deliveries again.", messages.SUCCESS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if principal_for(request).read_only:
            return {}
        actions.pop("delete_selected", None)
        return actions


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("id", "delivery", "attempted_at", "succeeded", "status_code", "duration_ms", "error")
    list_filter = ("succeeded", "status_code")
    search_fields = ("error", "delivery__event_type", "delivery__subscription__url")
    list_select_related = ("delivery",)
    readonly_fields = ("delivery", "attempted_at", "succeeded", "status_code", "duration_ms", "response_excerpt",
                       "error", "address")

    scope_fields = _owners("delivery__subscription")
