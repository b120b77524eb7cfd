from apps.billing.api.views import CdrViewSet
from thirdlane.api.routers import register_tenant_resource

register_tenant_resource("cdrs", CdrViewSet)
from apps.billing.api.platform import PlatformCdrViewSet  # noqa: E402
from thirdlane.api.routers import platform_router  # noqa: E402

platform_router.register("cdrs", PlatformCdrViewSet, basename="platform-cdrs")
