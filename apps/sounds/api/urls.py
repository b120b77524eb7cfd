from apps.sounds.api import schema  # noqa: F401  (states the sounds' rules in the OpenAPI document)
from apps.sounds.api import views
from thirdlane.api.routers import register_tenant_resource

register_tenant_resource("sounds", views.SoundFileViewSet)
