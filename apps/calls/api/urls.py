from apps.calls.api.control import CallControlJobViewSet, CallControlViewSet
from apps.calls.api.views import CallViewSet, PlatformCallViewSet
from thirdlane.api.routers import platform_router, register_tenant_resource, tenant_prefix, tenant_router

platform_router.register("calls", PlatformCallViewSet, basename="platform-calls")
register_tenant_resource("calls", CallViewSet)
# The jobs route first: the actions viewset's detail route would otherwise take "jobs".
tenant_router.register(tenant_prefix("call-control") + "/jobs", CallControlJobViewSet, basename="call-control-jobs")
register_tenant_resource("call-control", CallControlViewSet)
