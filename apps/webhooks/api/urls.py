from apps.webhooks.api import schema  # noqa: F401  (adds the OpenAPI `webhooks` section)
from apps.webhooks.api.views import (
    SystemDeliveryViewSet, SystemWebhookViewSet, TenantDeliveryViewSet, TenantWebhookViewSet, WebhookEventViewSet,
)
from thirdlane.api.routers import platform_router, register_tenant_resource, tenant_prefix, tenant_router

platform_router.register("webhook-events", WebhookEventViewSet, basename="webhook-event")
platform_router.register("system-webhooks", SystemWebhookViewSet, basename="system-webhook")
platform_router.register(r"system-webhooks/(?P<webhook_id>\d+)/deliveries", SystemDeliveryViewSet,
                         basename="system-webhook-delivery")
register_tenant_resource("webhooks", TenantWebhookViewSet)
tenant_router.register(tenant_prefix("webhooks") + r"/(?P<webhook_id>\d+)/deliveries", TenantDeliveryViewSet,
                       basename="webhook-delivery")
