from django import forms
from django.contrib import admin

from apps.pbx.models import Location, Server
from thirdlane.admin import ScopedModelAdmin


@admin.register(Location)
class LocationAdmin(ScopedModelAdmin):
    system_only = True
    list_display = ("name", "code", "timezone", "description")
    search_fields = ("name", "code")


class ServerForm(forms.ModelForm):
    # Write-only: the stored secret is never rendered back into the page.
    ami_secret = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False,
                                 help_text="Leave empty to keep the current secret.")

    class Meta:
        model = Server
        fields = "__all__"

    def clean_ami_secret(self):
        value = self.cleaned_data.get("ami_secret")
        return value or (self.instance.ami_secret if self.instance.pk else "")


@admin.register(Server)
class ServerAdmin(ScopedModelAdmin):
    system_only = True
    form = ServerForm
    list_display = ("name", "host", "sip_address", "location", "role", "is_active")
    list_filter = ("role", "location", "is_active")
    search_fields = ("name", "host", "sip_address")
