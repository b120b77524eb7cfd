"""``/api/sounds/<tenant>/``: prompts and music on hold, uploaded or spoken by text to speech."""
from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Q
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.sounds import services, storage
from apps.sounds.api.serializers import MohClassSerializer, SoundFileSerializer, SoundTtsSerializer, \
    SoundUploadSerializer
from apps.sounds.models import SoundFile
from thirdlane.api.errors import DomainError, Invalid
from thirdlane.api.parsers import JSONParser
from thirdlane.api.viewsets import TenantScopedViewSet

UPLOAD_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields; the file itself is checked exactly
MEDIA_TYPES = {"wav": "audio/wav", "ulaw": "audio/basic"}


class SoundFileViewSet(TenantScopedViewSet):
    """A tenant's sound files. `POST` (multipart) uploads a WAV, MP3 or OGG prompt or music-on-hold
    file, `POST .../tts` makes a prompt by text to speech; both answer 202 and convert in the
    background (`status` pending → converting → ready | failed, with `progress` and `error`). Ready
    sounds reach the tenant's PBX with the next configuration push; IVRs name prompts in
    `greeting_recording`, queues name music-on-hold classes in `music_on_hold`."""

    queryset = SoundFile.objects.all()
    serializer_class = SoundFileSerializer
    filterset_fields = ("kind", "status", "source", "moh_class")
    search_fields = ("name", "original_name", "text")
    ordering_fields = ("name", "kind", "moh_class", "status", "duration_ms", "created_at", "updated_at")
    ordering = ("kind", "moh_class", "name")
    update_service = staticmethod(services.sound_update)
    delete_service = staticmethod(services.sound_delete)
    parser_classes = [JSONParser]

    @property
    def max_body_bytes(self) -> int:
        if getattr(self, "action", None) == "create":
            return services.max_upload_bytes() + UPLOAD_OVERHEAD
        return settings.API_MAX_BODY_BYTES

    def initialize_request(self, request, *args, **kwargs):
        request = super().initialize_request(request, *args, **kwargs)
        if self.action == "create":
            request.parsers = [parsers.MultiPartParser()]
        return request

    def _created(self, sound: SoundFile) -> Response:
        data = SoundFileSerializer(sound, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": f"/api/sounds/{self.tenant.slug}/{sound.pk}/"})

    @extend_schema(request={"multipart/form-data": SoundUploadSerializer},
                   responses={202: OpenApiResponse(SoundFileSerializer, "Stored; converting. Poll `Location`."),
                              413: OpenApiResponse(description="payload_too_large: over SOUNDS_MAX_UPLOAD_BYTES."),
                              503: OpenApiResponse(description="sound_tools_missing: SoX is not installed.")})
    def create(self, request, tenant=None):
        """Upload a WAV, MP3 or OGG file (multipart field `file`). The file is checked before anything
        is stored: its extension, size, content (magic bytes and SoX's reading) and length; refusals
        are `sound_unsupported_format`, `payload_too_large`, `sound_not_audio`, `sound_too_long`."""
        body = self.body(SoundUploadSerializer)
        data = dict(body.validated_data)
        upload = data.pop("file")
        sound = services.sound_upload(**self.service_kwargs(), upload=upload, file_name=upload.name or "", **data)
        return self._created(sound)

    @extend_schema(request=SoundTtsSerializer,
                   responses={202: OpenApiResponse(SoundFileSerializer, "Speaking; poll `Location`."),
                              503: OpenApiResponse(description="sound_tools_missing: eSpeak NG is not installed.")})
    @action(detail=False, methods=["post"])
    def tts(self, request, tenant=None):
        """A prompt spoken by eSpeak NG from `text`, in `language` (default `SOUNDS_TTS_LANGUAGE`) with
        an optional voice variant."""
        body = self.body(SoundTtsSerializer)
        sound = services.sound_tts_create(**self.service_kwargs(), **body.validated_data)
        return self._created(sound)

    @extend_schema(parameters=[OpenApiParameter("codec", str, enum=list(MEDIA_TYPES),
                                                description="wav (default) or ulaw (raw G.711 mu-law, 8 kHz).")],
                   responses={(200, "audio/wav"): OpenApiResponse(OpenApiTypes.BINARY),
                              (200, "audio/basic"): OpenApiResponse(OpenApiTypes.BINARY),
                              409: OpenApiResponse(description="sound_not_ready: not converted (yet).")})
    @action(detail=True, methods=["get"])
    def download(self, request, tenant=None, pk=None):
        """The converted sound, as the PBX plays it (8 kHz mono 16-bit WAV, or mu-law)."""
        sound = self.get_object()
        fmt = request.query_params.get("codec", "wav")
        if fmt not in MEDIA_TYPES:
            raise Invalid("codec is wav or ulaw.", field="codec")
        if not sound.ready or fmt not in (sound.files or {}):
            raise DomainError(f"Sound {sound.name} is {sound.status}: nothing to download yet.", code="sound_not_ready")
        path = storage.converted_path(self.tenant.pk, sound.pk, fmt)
        if not path.exists():
            raise DomainError("The converted file is no longer stored.", code="not_found", status=404)
        return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{sound.name}.{fmt}",
                            content_type=MEDIA_TYPES[fmt])

    @extend_schema(responses=MohClassSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"], url_path="moh-classes", filter_backends=[])
    def moh_classes(self, request, tenant=None):
        """The tenant's music-on-hold classes with their file counts."""
        rows = (SoundFile.objects.filter(kind=SoundFile.Kind.MOH).values("moh_class")
                .annotate(files=Count("id"), ready=Count("id", filter=Q(status=SoundFile.Status.READY)))
                .order_by("moh_class"))
        items = [{"name": r["moh_class"], "pbx_name": f"{self.tenant.slug}-{r['moh_class']}", "files": r["files"],
                  "ready": r["ready"]} for r in rows]
        return self.paginated(items, MohClassSerializer)
