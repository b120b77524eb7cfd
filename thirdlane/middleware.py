"""Request id, schema hygiene and the per-tenant admin."""
from __future__ import annotations

import re
import types

from django.db import connection
from django.http import Http404
from django.urls import path

from thirdlane.context import actor_var, new_request_id, request_id_var, source_var, tenant_var

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    """Every response carries X-Request-ID: the client's when it sent a sane one, else a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _REQUEST_ID_RE.match(given) else new_request_id()
        request.request_id = request_id
        tokens = [
            request_id_var.set(request_id),
            source_var.set("api" if request.path.startswith("/api/") else "admin"),
            tenant_var.set(None),
            actor_var.set(None),
        ]
        try:
            response = self.get_response(request)
        finally:
            for var, token in zip((request_id_var, source_var, tenant_var, actor_var), tokens):
                var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class SchemaResetMiddleware:
    """A pooled connection never carries one request's tenant schema into the next.

    The base viewset and the tenant admin reset the search path themselves; this is the
    belt to their braces, at the start and at the end of every request, also on error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        connection.set_schema_to_public()
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()


_TENANT_ADMIN_RE = re.compile(r"^/t/(?P<slug>[a-z][a-z0-9-]{1,39})/admin/")
_urlconfs: dict[str, types.ModuleType] = {}


def tenant_admin_urlconf(slug: str) -> types.ModuleType:
    """A URLconf mounting the tenant admin site at /t/<slug>/admin/ (cached per slug)."""
    module = _urlconfs.get(slug)
    if module is None:
        from thirdlane.admin_sites import tenant_admin_site
        from thirdlane import urls as root_urls

        module = types.ModuleType(f"thirdlane_tenant_urls_{slug.replace('-', '_')}")
        module.urlpatterns = [path(f"t/{slug}/admin/", tenant_admin_site.urls), *root_urls.urlpatterns]
        _urlconfs[slug] = module
    return module


class TenantAdminMiddleware:
    """Routes /t/<tenant>/admin/ to the tenant admin site with the tenant's schema active.

    Tenants are resolved by path (a provider serves every tenant from one host). A signed-in
    user who may not see the tenant gets the same 404 as for a tenant that does not exist.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = _TENANT_ADMIN_RE.match(request.path_info)
        if not match:
            return self.get_response(request)
        from apps.accounts.principal import Principal
        from apps.tenants.models import Tenant

        slug = match.group("slug")
        tenant = Tenant.objects.select_related("reseller").filter(slug=slug).first()
        user = request.user
        if tenant is None:
            raise Http404("No such tenant.")
        if user.is_authenticated:
            if not (user.is_staff and Principal.for_user(user).can_see_tenant(tenant)):
                raise Http404("No such tenant.")
        request.tenant = tenant
        request.urlconf = tenant_admin_urlconf(slug)
        token = tenant_var.set(slug)
        connection.set_tenant(tenant)
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()
            tenant_var.reset(token)
