from apps.telephony.api import views
from django.urls import re_path

from thirdlane.api.routers import register_tenant_resource, tenant_prefix

register_tenant_resource("extensions", views.ExtensionViewSet)
register_tenant_resource("dids", views.DidViewSet)
register_tenant_resource("trunks", views.TrunkViewSet)
register_tenant_resource("outbound-routes", views.OutboundRouteViewSet)
register_tenant_resource("queues", views.QueueViewSet)
register_tenant_resource("agents", views.AgentViewSet)
register_tenant_resource("ivrs", views.IvrViewSet)
register_tenant_resource("schedules", views.ScheduleViewSet)
register_tenant_resource("time-conditions", views.TimeConditionViewSet)


def _alias(viewset, action: str):
    """The same action without the trailing slash (POST cannot be redirected to add it); kept out of
    the OpenAPI document, which lists the canonical path once."""
    return type(f"{viewset.__name__}NoSlash", (viewset,), {"schema": None}).as_view({"post": action})


urlpatterns = [
    re_path(rf"^{tenant_prefix('extensions')}/bulk$", _alias(views.ExtensionViewSet, "bulk")),
    re_path(rf"^{tenant_prefix('time-conditions')}/(?P<pk>[0-9]+)/override$",
            _alias(views.TimeConditionViewSet, "override")),
    re_path(rf"^{tenant_prefix('agents')}/(?P<pk>[0-9]+)/state$", _alias(views.AgentViewSet, "state")),
]
