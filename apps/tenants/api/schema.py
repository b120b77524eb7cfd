"""The tenant rules the model's slug validator does not carry: reserved slugs."""
from __future__ import annotations

from apps.tenants.models import RESERVED_SLUGS
from thirdlane.api.schema import request_rules

request_rules({"TenantRequest": {"fields": {"slug": {"not": {"enum": sorted(RESERVED_SLUGS)}}}}})
