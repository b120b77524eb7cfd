from apps.organizations.api.views import OrganizationViewSet
from thirdlane.api.routers import platform_router

platform_router.register("organization", OrganizationViewSet, basename="organization")
