from apps.organizations.api import schema  # noqa: F401  (documents the organization-specific refusals)
from apps.organizations.api.views import OrganizationViewSet
from thirdlane.api.routers import platform_router

platform_router.register("organization", OrganizationViewSet, basename="organization")
