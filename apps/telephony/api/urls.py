from apps.telephony.api import schema  # noqa: F401  (states the telephony rules in the OpenAPI document)
from apps.telephony.api import views
from thirdlane.api.routers import register_tenant_resource

register_tenant_resource("extensions", views.ExtensionViewSet)
register_tenant_resource("dids", views.DidViewSet)
register_tenant_resource("trunks", views.TrunkViewSet)
register_tenant_resource("outbound-routes", views.OutboundRouteViewSet)
register_tenant_resource("queues", views.QueueViewSet)
register_tenant_resource("agents", views.AgentViewSet)
register_tenant_resource("ivrs", views.IvrViewSet)
register_tenant_resource("schedules", views.ScheduleViewSet)
register_tenant_resource("time-conditions", views.TimeConditionViewSet)


from apps.telephony.api import feature_views  # noqa: E402  (issue 12: PBX features)

register_tenant_resource("ring-groups", feature_views.RingGroupViewSet)
register_tenant_resource("block-lists", feature_views.BlockListViewSet)
register_tenant_resource("feature-codes", feature_views.FeatureCodeViewSet)
register_tenant_resource("conferences", feature_views.ConferenceViewSet)
register_tenant_resource("parking-lots", feature_views.ParkingLotViewSet)
register_tenant_resource("paging-groups", feature_views.PagingGroupViewSet)
