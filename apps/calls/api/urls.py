from apps.calls.api.views import CallViewSet, PlatformCallViewSet
from thirdlane.api.routers import platform_router, register_tenant_resource

platform_router.register("calls", PlatformCallViewSet, basename="platform-calls")
register_tenant_resource("calls", CallViewSet)
