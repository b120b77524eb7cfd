from django.urls import re_path

from apps.sms.api import schema  # noqa: F401  (the SMS rules and links in the OpenAPI document)
from apps.sms.api.providers import SmsProviderViewSet
from apps.sms.api.views import (
    SmsAdapterViewSet, SmsInboundViewSet, SmsMessageViewSet, SmsOptOutViewSet, SmsSettingsViewSet,
)
from thirdlane.api.routers import platform_router, tenant_prefix, tenant_router

platform_router.register("sms-providers", SmsProviderViewSet, basename="sms-provider")
tenant_router.register(tenant_prefix("sms") + "/messages", SmsMessageViewSet, basename="sms-messages")
tenant_router.register(tenant_prefix("sms") + "/opt-outs", SmsOptOutViewSet, basename="sms-opt-outs")

urlpatterns = [
    # One object per tenant: no list and no id, so not a router resource.
    re_path("^" + tenant_prefix("sms") + "/settings/?$",
            SmsSettingsViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"}),
            name="sms-settings"),
    re_path(r"^sms/inbound/(?P<provider>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/batch/?$",
            SmsInboundViewSet.as_view({"post": "receive_batch"}), name="sms-inbound-batch"),
    re_path(r"^sms/inbound/(?P<provider>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/?$",
            SmsInboundViewSet.as_view({"post": "receive"}), name="sms-inbound"),
    re_path(r"^sms/adapters/(?P<lang>perl|python|node)\.zip$", SmsAdapterViewSet.as_view({"get": "download"}),
            name="sms-adapter"),
]
