from apps.accounts.api.views import ApiKeyViewSet
from thirdlane.api.routers import platform_router

platform_router.register("api-keys", ApiKeyViewSet, basename="api-key")
