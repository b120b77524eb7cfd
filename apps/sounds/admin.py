"""Tenant admin (/t/<tenant>/admin/sounds/soundfile/) for prompts and music on hold.

Add a sound by uploading a WAV/MP3/OGG file or by typing the text to speak; the list and the
change page play the converted sound in the browser (``<audio>``, served by the admin from the
media directory). Saves and deletes go through apps.sounds.services, like the API: the same
checks, audit entries and events.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html

from apps.sounds import services, storage
from apps.sounds.models import SoundFile
from thirdlane.admin import ScopedModelAdmin, principal_for
from thirdlane.admin_sites import tenant_admin_site
from thirdlane.api.errors import DomainError


class SoundFileForm(forms.ModelForm):
    file = forms.FileField(required=False, help_text="A WAV, MP3 or OGG file. Leave empty to speak the text instead.")

    class Meta:
        model = SoundFile
        fields = ("name", "kind", "moh_class", "text", "language", "voice")
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("file", None)
            if "kind" in self.fields:
                self.fields["kind"].disabled = True
            if self.instance.source != SoundFile.Source.TTS:
                for name in ("text", "language", "voice"):
                    self.fields.pop(name, None)
            if self.instance.kind != SoundFile.Kind.MOH:
                self.fields.pop("moh_class", None)

    def clean(self):
        data = super().clean()
        if not self.instance.pk:
            has_file, has_text = bool(data.get("file")), bool((data.get("text") or "").strip())
            if has_file == has_text:
                raise forms.ValidationError("Upload a file or type the text to speak (one of them).")
            if has_text and data.get("kind") == SoundFile.Kind.MOH:
                self.add_error("text", "Music on hold is uploaded, not spoken.")
        return data

    def validate_unique(self):
        pass  # the service answers duplicates with a clear message


@admin.register(SoundFile, site=tenant_admin_site)
class SoundFileAdmin(ScopedModelAdmin):
    form = SoundFileForm
    list_display = ("name", "kind_code", "moh_class", "source_code", "status_display", "length", "player")
    list_filter = ("kind", "source", "status", "moh_class")
    search_fields = ("name", "original_name", "text")
    readonly_fields = ("source", "ivr", "status_display", "length", "player", "original_name", "original_format",
                       "original_bytes", "checksum", "converted_at")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("name", "kind", "moh_class", "file", "text", "language", "voice")})]
        form_fields = ["name", "kind"] + (["moh_class"] if obj.kind == SoundFile.Kind.MOH else []) \
            + (["text", "language", "voice"] if obj.source == SoundFile.Source.TTS else [])
        return [(None, {"fields": form_fields}),
                ("Sound", {"fields": ("player", "status_display", "length", "source", "ivr", "original_name",
                                      "original_format", "original_bytes", "checksum", "converted_at")})]

    # --- display -----------------------------------------------------------------------------
    @admin.display(description="kind", ordering="kind")
    def kind_code(self, obj):
        return obj.kind

    @admin.display(description="source", ordering="source")
    def source_code(self, obj):
        return obj.source

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        if obj.status == SoundFile.Status.FAILED:
            return format_html('<span title="{}">failed: {}</span>', obj.error, obj.error[:40])
        if obj.status == SoundFile.Status.CONVERTING:
            return format_html('<progress max="100" value="{}" style="width:60px"></progress> {}%', obj.progress,
                               obj.progress)
        return obj.get_status_display()

    @admin.display(description="length", ordering="duration_ms")
    def length(self, obj):
        return f"{obj.duration_ms / 1000:.1f} s" if obj.duration_ms is not None else "—"

    @admin.display(description="listen")
    def player(self, obj):
        if not obj.pk or not obj.ready:
            return "—"
        url = reverse("tenant_admin:sounds_soundfile_audio", args=[obj.pk])
        return format_html('<audio controls preload="none" src="{}" style="height:28px;width:170px"></audio>', url)

    # --- the converted sound, for the player ------------------------------------------------
    def get_urls(self):
        return [path("<int:pk>/audio.wav", self.admin_site.admin_view(self.audio_view),
                     name="sounds_soundfile_audio"), *super().get_urls()]

    def audio_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise Http404("No such sound.")
        sound = self.get_queryset(request).filter(pk=pk).first()
        path_ = storage.converted_path(request.tenant.pk, pk, "wav") if sound is not None and sound.ready else None
        if path_ is None or not path_.exists():
            raise Http404("No converted sound.")
        return FileResponse(open(path_, "rb"), content_type="audio/wav", filename=f"{sound.name}.wav")

    # --- writes through the services -----------------------------------------------------------
    def log_addition(self, request, obj, message):
        return None  # the services write the audit log (Django's LogEntry cannot point into a tenant schema)

    def log_change(self, request, obj, message):
        return None

    def log_deletion(self, request, obj, object_repr):
        return None

    def log_deletions(self, request, queryset):
        return None

    def save_model(self, request, obj, form, change):
        kwargs = {"actor": principal_for(request), "tenant": request.tenant}
        data = form.cleaned_data
        if change:
            fields = {name: data[name] for name in ("name", "moh_class", "text", "language", "voice")
                      if name in form.fields and name in form.changed_data}
            saved = services.sound_update(**kwargs, instance=obj, **fields) if fields else obj
        elif data.get("file"):
            upload = data["file"]
            saved = services.sound_upload(**kwargs, name=data["name"], kind=data["kind"],
                                          moh_class=data.get("moh_class") or "", upload=upload, file_name=upload.name)
        else:
            saved = services.sound_tts_create(**kwargs, name=data["name"], text=data["text"],
                                              language=data.get("language") or "", voice=data.get("voice") or "")
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        try:
            services.sound_delete(actor=principal_for(request), tenant=request.tenant, instance=obj)
        except DomainError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
