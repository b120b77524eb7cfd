"""The two base viewsets. Domain viewsets only declare; everything else happens here.

``TenantScopedViewSet`` serves ``/api/<resource>/<tenant>/[<id>/][<action>/]``:
    resolves ``<tenant>``, answers 404 ``tenant_not_found`` when the caller's scope does not
    cover it (never a 403 that would confirm it exists), activates the tenant's schema for the
    request and always resets it, also when the view raised.
``PlatformViewSet`` serves public-schema resources (``/api/tenants/``, ``/api/api-keys/`` ...)
    and limits the queryset to the caller's scope with ``scope_queryset``.

Both: refuse bodies over ``max_body_bytes`` (413), paginate every list (X-Total-Count, Link),
and send writes through service functions: a viewset names them with
``create_service`` / ``update_service`` / ``delete_service`` (called as
``service(actor=..., [tenant=...,] [instance=...,] **validated_data)``), or leaves them out and
gets ``thirdlane.services.model_create/update/delete`` with its ``event_prefix``.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from django.conf import settings
from django.db import connection, models
from rest_framework import mixins, viewsets
from rest_framework.response import Response

from apps.accounts.principal import Principal
from apps.tenants.models import Tenant
from thirdlane.api.errors import DomainError, NotFound
from thirdlane.api.permissions import principal_of
from thirdlane.context import tenant_var
from thirdlane.services import model_create, model_delete, model_update


def _static(obj, name: str) -> Callable | None:
    """A service declared as a plain function on the class, without binding it as a method."""
    try:
        value = inspect.getattr_static(obj, name)
    except AttributeError:
        return None
    if isinstance(value, staticmethod):
        value = value.__func__
    return value


def _split_m2m(model: type[models.Model], data: dict[str, Any]) -> tuple[dict, dict]:
    m2m_names = {f.name for f in model._meta.many_to_many}
    plain = {k: v for k, v in data.items() if k not in m2m_names}
    m2m = {k: v for k, v in data.items() if k in m2m_names}
    return plain, m2m


class BaseViewSet(viewsets.ModelViewSet):
    event_prefix: str | None = None
    event_payload: Callable[[Any], dict] | None = None
    create_service: Callable | None = None
    update_service: Callable | None = None
    delete_service: Callable | None = None
    max_body_bytes: int = settings.API_MAX_BODY_BYTES
    # Extra query parameters a list accepts besides its filters (for StrictFilterBackend).
    extra_query_params: tuple[str, ...] = ()
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    # --- request set-up -------------------------------------------------------------------
    @property
    def principal(self) -> Principal:
        return principal_of(self.request)

    def initial(self, request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            too_big = int(length) > self.max_body_bytes
        except ValueError:
            too_big = False
        if too_big:
            raise DomainError(f"The request body is larger than {self.max_body_bytes} bytes.",
                              code="payload_too_large")
        # PostgreSQL cannot hold U+0000: a NUL in a filter or search would fail in the query.
        bad = [key for key, values in request.query_params.lists()
               if "\x00" in key or any("\x00" in v for v in values)]
        if bad:
            raise DomainError("Null characters are not allowed in query parameters.", code="invalid_filter",
                              errors={key.replace("\x00", ""): [{"code": "invalid_filter",
                                                                   "message": "Null characters are not allowed."}]
                                      for key in bad})
        super().initial(request, *args, **kwargs)

    def service_kwargs(self) -> dict[str, Any]:
        return {"actor": self.principal}

    def _payload(self):
        return _static(self, "event_payload")

    # --- writes through services ----------------------------------------------------------
    def perform_create(self, serializer):
        service = _static(self, "create_service")
        data = dict(serializer.validated_data)
        if service:
            serializer.instance = service(**self.service_kwargs(), **data)
        else:
            model = self.get_queryset().model
            plain, m2m = _split_m2m(model, data)
            serializer.instance = model_create(**self.generic_kwargs(), model=model, data=plain, m2m=m2m)

    def perform_update(self, serializer):
        service = _static(self, "update_service")
        data = dict(serializer.validated_data)
        if service:
            serializer.instance = service(**self.service_kwargs(), instance=serializer.instance, **data)
        else:
            plain, m2m = _split_m2m(type(serializer.instance), data)
            serializer.instance = model_update(**self.generic_kwargs(), instance=serializer.instance,
                                               data=plain, m2m=m2m)

    def perform_destroy(self, instance):
        service = _static(self, "delete_service")
        if service:
            service(**self.service_kwargs(), instance=instance)
        else:
            model_delete(**self.generic_kwargs(), instance=instance)

    def generic_kwargs(self) -> dict[str, Any]:
        return {**self.service_kwargs(), "event_prefix": self.event_prefix, "payload": self._payload()}

    # --- lists of things that are not querysets -------------------------------------------
    def paginated(self, items, serializer_class=None, **serializer_kwargs) -> Response:
        """Paginate any sequence with X-Total-Count and Link, like a queryset list."""
        page = self.paginate_queryset(items)
        if serializer_class is not None:
            page = serializer_class(page, many=True, context=self.get_serializer_context(),
                                    **serializer_kwargs).data
        return self.get_paginated_response(page)


class TenantScopedViewSet(BaseViewSet):
    """Base for ``/api/<resource>/<tenant>/`` resources; data lives in the tenant's schema."""

    tenant: Tenant

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # The schema never outlives the request, whatever happened in it.
            connection.set_schema_to_public()
            tenant_var.set(None)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.tenant = self.resolve_tenant(kwargs.get("tenant", ""))
        request.tenant = self.tenant
        tenant_var.set(self.tenant.slug)
        connection.set_tenant(self.tenant)

    def resolve_tenant(self, slug: str) -> Tenant:
        # A tenant credential's own tenant was loaded with the credential: no second query.
        owner = getattr(self.principal.api_key or self.principal.user, "tenant", None)
        if owner is not None and owner.slug == slug:
            return owner
        tenant = Tenant.objects.select_related("reseller").filter(slug=slug).first() if slug else None
        if tenant is None or not self.principal.can_see_tenant(tenant):
            raise NotFound(f"No tenant {slug!r}.", code="tenant_not_found")
        return tenant

    def service_kwargs(self) -> dict[str, Any]:
        return {"actor": self.principal, "tenant": self.tenant}

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["tenant"] = getattr(self, "tenant", None)
        return context


class PlatformViewSet(BaseViewSet):
    """Base for public-schema resources; ``scope_queryset`` limits rows to the caller's scope."""

    def scope_queryset(self, queryset, principal: Principal):
        raise NotImplementedError(f"{type(self).__name__} must say which rows each scope sees")

    def get_queryset(self):
        queryset = super().get_queryset()
        principal = self.principal
        if principal is None:  # schema generation
            return queryset.none()
        return self.scope_queryset(queryset, principal)


class ReadOnlyPlatformViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read-only public resources (audit log, event catalogue) with the same scope rule."""

    def scope_queryset(self, queryset, principal: Principal):
        raise NotImplementedError

    @property
    def principal(self) -> Principal:
        return principal_of(self.request)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.principal is None:
            return queryset.none()
        return self.scope_queryset(queryset, self.principal)
