"""Tenant admin (/t/<tenant>/admin/) for desk phones, with their lines inline.

Saves go through the phone services (MAC unique across the platform, lines checked against the
model, audit and events), like the API. A generated provisioning password is shown once, in the
message after the save; "Regenerate the provisioning password" shows a new one the same way.
"""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html

from apps.provisioning import catalog, macs, services
from apps.provisioning.models import Phone, PhoneLine
from apps.provisioning.registry.models import Device
from apps.provisioning.render import provisioning_url
from apps.telephony.admin import Inline, SecretInput, TelephonyAdmin, _pk
from thirdlane.admin import principal_for
from thirdlane.admin_display import short_datetime
from thirdlane.admin_sites import tenant_admin_site


class PhoneForm(forms.ModelForm):
    mac = forms.CharField(label="MAC address", max_length=23,
                          help_text="Any usual spelling: 00:15:65:AB:CD:EF, 0015.65ab.cdef ...")
    password = forms.CharField(widget=SecretInput(), required=False, label="Provisioning password",
                               help_text="Write-only. Empty: keep the current one (a strong one is generated for a "
                                         "new phone and shown once after saving).")
    admin_password = forms.CharField(widget=SecretInput(), required=False, label="Web admin password",
                                     help_text="Write-only: 8-32 letters and digits. Empty: keep (generated for a "
                                               "new phone).")

    class Meta:
        model = Phone
        fields = ("mac", "vendor", "model", "name", "enabled", "admin_password")

    def clean_mac(self):
        mac = macs.normalize(self.cleaned_data["mac"])
        if mac is None:
            raise forms.ValidationError("Not a MAC address a phone can have (12 hex digits, not multicast).")
        return mac

    def clean(self):
        data = super().clean()
        vendor, model = data.get("vendor"), data.get("model")
        if vendor and model and model not in catalog.models_of(vendor):
            self.add_error("model", f"Not a {catalog.VENDORS[vendor].label} model.")
        return data


class PhoneLineInline(Inline):
    model = PhoneLine
    extra = 1
    autocomplete_fields = ("extension",)
    ordering = ("position",)


@admin.register(Phone, site=tenant_admin_site)
class PhoneAdmin(TelephonyAdmin):
    noun = "phone"
    form = PhoneForm
    inlines = [PhoneLineInline]
    inline_fields = {PhoneLine: ("lines", lambda d: {"position": d.get("position"), "extension": _pk(d["extension"]),
                                                     "label": d.get("label") or ""})}
    list_display = ("mac_address", "model", "name", "line_numbers", "enabled", "last_seen")
    list_filter = ("vendor", "model", "enabled")
    search_fields = ("mac", "name", "model", "lines__extension__number")
    ordering = ("mac",)
    readonly_fields = ("provisioning",)
    fieldsets = (
        (None, {"fields": ("mac", "vendor", "model", "name", "enabled")}),
        ("Credentials", {"fields": ("password", "admin_password", "provisioning")}),
    )
    actions = ("regenerate_credential",)

    def _service(self, verb: str):
        return getattr(services, f"phone_{verb}")

    def get_queryset(self, request):
        seen = Device.objects.filter(mac=OuterRef("mac")).values("last_seen_at")[:1]
        return super().get_queryset(request).prefetch_related("lines__extension").annotate(seen=Subquery(seen))

    @admin.display(description="MAC address", ordering="mac")
    def mac_address(self, obj):
        return macs.colons(obj.mac)

    @admin.display(description="lines")
    def line_numbers(self, obj):
        return ", ".join(f"{line.position}: {line.extension.number}" for line in obj.lines.all()) or "-"

    @admin.display(description="last fetched", ordering="seen")
    def last_seen(self, obj):
        return short_datetime(obj.seen) if getattr(obj, "seen", None) else "never"

    @admin.display(description="provisioning")
    def provisioning(self, obj):
        if not obj or not obj.pk:
            return "Shown once the phone is saved."
        url = provisioning_url() if settings.PROVISIONING_BASE_URL else "https://<this portal>/provisioning/"
        return format_html("URL <code>{}</code>, user name <code>{}</code>; files: {}", url, obj.mac,
                           ", ".join(catalog.files_for(obj.vendor, obj.mac)))

    def _save(self, request, obj, form, change, rows: dict) -> None:
        kwargs = {"actor": principal_for(request), "tenant": request.tenant}
        data = {**self.service_data(form), **rows}
        if change:
            saved = services.phone_update(**kwargs, instance=Phone.objects.get(pk=obj.pk), **data)
        else:
            saved = services.phone_create(**kwargs, **data)
        obj.pk, obj._state.adding, obj._state.db = saved.pk, False, saved._state.db
        if getattr(saved, "generated_password", None):
            self.message_user(request, format_html(
                "Provisioning password of {} (shown once): <code>{}</code>", macs.colons(saved.mac),
                saved.generated_password), level=messages.WARNING)

    @admin.action(description="Regenerate the provisioning password")
    def regenerate_credential(self, request, queryset):
        for phone in queryset:
            password = services.phone_regenerate_credential(actor=principal_for(request), tenant=request.tenant,
                                                            instance=phone)
            self.message_user(request, format_html("New provisioning password of {} (shown once): <code>{}</code>",
                                                   macs.colons(phone.mac), password), level=messages.WARNING)
