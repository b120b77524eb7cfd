from apps.audit.api.views import AuditLogViewSet
from thirdlane.api.routers import platform_router

platform_router.register("audit-log", AuditLogViewSet, basename="audit-log")
