from apps.tenants.api import schema  # noqa: F401  (states the reserved slugs in the OpenAPI document)
from apps.tenants.api.views import ResellerViewSet, TenantViewSet
from thirdlane.api.routers import platform_router

platform_router.register("tenants", TenantViewSet, basename="tenant")
platform_router.register("resellers", ResellerViewSet, basename="reseller")
