from apps.pbx.api.views import LocationViewSet, ServerViewSet
from thirdlane.api.routers import platform_router

platform_router.register("servers", ServerViewSet, basename="server")
platform_router.register("locations", LocationViewSet, basename="location")
