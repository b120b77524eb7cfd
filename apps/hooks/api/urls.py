from apps.hooks.api import schema  # noqa: F401  (states the hooks' rules in the OpenAPI document)
from apps.hooks.api import views
from thirdlane.api.routers import register_tenant_resource

register_tenant_resource("custom-dialplans", views.CustomDialplanViewSet)
register_tenant_resource("routing-hooks", views.RoutingHookViewSet)
