from apps.exports.api import schema  # noqa: F401  (states the export rules in the OpenAPI document)
from apps.exports.api.views import ExportRunViewSet, ExportScheduleViewSet
from thirdlane.api.routers import platform_router

platform_router.register("exports", ExportScheduleViewSet, basename="export")
platform_router.register("export-runs", ExportRunViewSet, basename="export-run")
