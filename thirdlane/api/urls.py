"""/api/ URLs. Each app's ``api/urls.py`` registers its viewsets on the shared routers (and may
add plain ``urlpatterns``); this module imports them all, so adding an app needs no edit here."""
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from thirdlane.api import views
from thirdlane.api.routers import platform_router, tenant_router

app_patterns = []
for config in apps.get_app_configs():
    if config.name.startswith("apps.") and find_spec(f"{config.name}.api") and find_spec(f"{config.name}.api.urls"):
        module = import_module(f"{config.name}.api.urls")
        app_patterns += getattr(module, "urlpatterns", [])

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.docs_page, name="docs"),
    *app_patterns,
    *platform_router.urls,
    *tenant_router.urls,
    re_path(r"^.*$", views.api_not_found),
]
