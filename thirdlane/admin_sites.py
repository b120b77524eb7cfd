"""The two admin sites.

``admin.site`` (at /admin/) is the platform admin: resellers, tenants, keys, servers, audit.
``tenant_admin_site`` (at /t/<tenant>/admin/) manages one tenant's telephony and CRM objects,
with that tenant's schema active (TenantAdminMiddleware). A reseller moves between its tenants
with the switcher on the dashboard.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.db.models import Count, Q

from thirdlane.ratelimit.admin_login import ThrottledLoginSiteMixin


def _principal(request):
    from apps.accounts.principal import Principal

    return Principal.for_user(request.user)


class PortalAdminSite(ThrottledLoginSiteMixin, admin.AdminSite):
    site_header = "Thirdlane portal"
    site_title = "Thirdlane portal"
    index_title = "Dashboard"
    index_template = "admin/portal_index.html"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def index(self, request, extra_context=None):
        from apps.tenants.models import Tenant

        extra_context = extra_context or {}
        if request.user.is_authenticated:
            principal = _principal(request)
            tenants = principal.visible_tenants(Tenant.objects.select_related("reseller", "primary_server"))
            extra_context["tenant_summary"] = tenants.aggregate(
                total=Count("pk"), active=Count("pk", filter=Q(status="active")),
                suspended=Count("pk", filter=Q(status="suspended")))
            shown = list(tenants.order_by("name")[:50])
            # Extension counts of every tenant shown, in one statement over their schemas.
            from apps.organizations.selectors import extension_counts

            counts = extension_counts(shown)
            # Calls and billed minutes this month (the dashboard's time zone), from the CDRs.
            from django.utils import timezone as djtz

            from apps.billing.selectors import usage

            month = djtz.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            used = usage(shown, month)
            for tenant in shown:
                tenant.extension_count = counts.get(tenant.pk, 0)
                tenant.calls_this_month = used[tenant.pk]["calls"]
                tenant.minutes_this_month = used[tenant.pk]["minutes"]
            extra_context["usage_since"] = month
            extra_context["tenants"] = shown
            if principal.is_system:
                extra_context["listeners"] = listener_rows()
        return super().index(request, extra_context)


def listener_rows() -> list[dict]:
    """Each active PBX server with its AMI listener's health as the listener last reported it."""
    import time

    from apps.calls.live import listener_health
    from apps.pbx.models import Server

    servers = list(Server.objects.filter(is_active=True).order_by("name"))
    health = listener_health(s.pk for s in servers)
    rows = []
    for server in servers:
        h = health.get(server.pk) or {}
        last = h.get("last_event_at")
        rows.append({"server": server, "reporting": bool(h), "connected": bool(h.get("connected")),
                     "last_event_ago": round(time.time() - last) if last else None,
                     "events_per_second": h.get("events_per_second"), "calls_in_progress": h.get("calls_in_progress"),
                     "unmapped": h.get("unmapped"), "flush_errors": h.get("flush_errors")})
    return rows


class TenantAdminSite(ThrottledLoginSiteMixin, admin.AdminSite):
    site_header = "Thirdlane portal"
    index_template = "admin/tenant_index.html"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_staff and getattr(request, "tenant", None) is not None

    def each_context(self, request):
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        context["current_tenant"] = tenant
        context["site_title"] = context["site_header"] = f"Tenant {tenant.name}" if tenant else "Tenant"
        if request.user.is_authenticated:
            from apps.tenants.models import Tenant

            context["switch_tenants"] = _principal(request).visible_tenants(Tenant.objects.all()).order_by("name")[:200]
        return context


tenant_admin_site = TenantAdminSite(name="tenant_admin")


class PortalAdminConfig(AdminConfig):
    default_site = "thirdlane.admin_sites.PortalAdminSite"
