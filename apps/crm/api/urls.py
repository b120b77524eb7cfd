from apps.crm.api import views
from thirdlane.api.routers import register_tenant_resource

register_tenant_resource("crm-contacts", views.ContactViewSet)
register_tenant_resource("crm-accounts", views.AccountViewSet)
register_tenant_resource("crm-leads", views.LeadViewSet)
register_tenant_resource("crm-lists", views.ContactListViewSet)
register_tenant_resource("crm-custom-fields", views.CustomFieldViewSet)
register_tenant_resource("crm-activities", views.ActivityViewSet)
register_tenant_resource("crm-tasks", views.TaskViewSet)
register_tenant_resource("crm-campaigns", views.CampaignViewSet)
register_tenant_resource("crm-deals", views.DealViewSet)
register_tenant_resource("crm-deal-stages", views.DealStageViewSet)
register_tenant_resource("crm-import-maps", views.ImportMapViewSet)
register_tenant_resource("crm-imports", views.ImportJobViewSet)

from apps.crm.api import schema  # noqa: E402,F401  (registers the OpenAPI extension)
