from apps.pbx.api import schema  # noqa: F401  (states the server rules in the OpenAPI document)
from apps.pbx.api.contact_center import ContactCenterAgentViewSet, ContactCenterQueueViewSet, ContactCenterViewSet
from apps.pbx.api.views import LocationViewSet, ServerViewSet
from thirdlane.api.routers import platform_router, register_tenant_resource, tenant_prefix, tenant_router

platform_router.register("servers", ServerViewSet, basename="server")
platform_router.register("locations", LocationViewSet, basename="location")

# The queues and agents routes first: the overview's detail route would otherwise take "agents".
tenant_router.register(tenant_prefix("contact-center") + "/queues", ContactCenterQueueViewSet,
                       basename="contact-center-queues")
tenant_router.register(tenant_prefix("contact-center") + "/agents", ContactCenterAgentViewSet,
                       basename="contact-center-agents")
register_tenant_resource("contact-center", ContactCenterViewSet)
