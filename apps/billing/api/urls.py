from apps.billing.api.views import CdrViewSet
from thirdlane.api.routers import register_tenant_resource

register_tenant_resource("cdrs", CdrViewSet)
