"""CRM data, stored in each tenant's schema (apps.crm is a TENANT_APP)."""
from apps.crm.models.core import (  # noqa: F401
    Account, Activity, Campaign, CampaignMember, Contact, ContactList, CustomField, Deal, DealStage, Lead,
    ListMembership, Task,
)
from apps.crm.models.imports import ImportFileChunk, ImportJob, ImportMap, ImportRowIssue  # noqa: F401
