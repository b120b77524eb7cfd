from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("thirdlane.api.urls")),
    # What desk phones fetch their configuration from (apps.provisioning; docs/provisioning.md).
    path("provisioning/", include("apps.provisioning.urls")),
]
if settings.SERVE_STATIC:
    # Collected static files served by Django: the one-command run and the image need nothing else.
    urlpatterns.append(re_path(r"^static/(?P<path>.*)$", serve, {"document_root": settings.STATIC_ROOT}))

handler404 = "thirdlane.api.views.not_found"
handler500 = "thirdlane.api.views.server_error"
