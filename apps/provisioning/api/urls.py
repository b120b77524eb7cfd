from apps.provisioning.api import views
from thirdlane.api.routers import register_tenant_resource

register_tenant_resource("phones", views.PhoneViewSet)
