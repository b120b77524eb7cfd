from apps.tenants.api.views import ResellerViewSet, TenantViewSet
from thirdlane.api.routers import platform_router

platform_router.register("tenants", TenantViewSet, basename="tenant")
platform_router.register("resellers", ResellerViewSet, basename="reseller")
