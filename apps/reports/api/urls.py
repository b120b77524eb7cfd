from apps.reports.api.views import AgentStatsViewSet, CallCounterViewSet, PlatformCallCounterViewSet
from thirdlane.api.routers import platform_router, register_tenant_resource

platform_router.register("call-counters", PlatformCallCounterViewSet, basename="platform-call-counters")
register_tenant_resource("agent-stats", AgentStatsViewSet)
register_tenant_resource("call-counters", CallCounterViewSet)
