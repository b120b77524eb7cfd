"""The base viewsets. Domain viewsets only declare; everything else happens here.

``ApiViewSet`` is the root of every API viewset (a test walks the URLconf to keep it so):
    refuses bodies over ``max_body_bytes`` (413) and NUL characters in query parameters (400),
    rejects request-body fields the serializer does not have (400 ``unknown_field`` per field),
    answers 404 with the viewset's ``not_found_code``, paginates any sequence (X-Total-Count, Link).
``TenantScopedViewSet`` serves ``/api/<resource>/<tenant>/[<id>/][<action>/]``:
    resolves ``<tenant>``, answers 404 ``tenant_not_found`` when the caller's scope does not
    cover it (never a 403 that would confirm it exists), activates the tenant's schema for the
    request and always resets it, also when the view raised.
``PlatformViewSet`` / ``ReadOnlyPlatformViewSet`` serve public-schema resources and keep the
    rows in the caller's scope: declare ``scope_fields`` (the paths to a row's owners, given to
    ``Principal.scope_q``), or override ``scope_queryset`` where the rule is not ownership.

Writes go through the service functions a viewset names: ``create_service``, ``update_service``,
``delete_service``, called as ``service(actor=..., [tenant=...,] [instance=...,] **validated_data)``.
A viewset without one (and without its own ``create``/``perform_create`` ...) does not offer that
method: the router does not route it (405 with an ``Allow`` header that leaves it out) and the
OpenAPI document does not list it.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from django.conf import settings
from django.db import connection
from django.http import Http404
from rest_framework import exceptions, mixins, viewsets
from rest_framework.response import Response

from apps.accounts.principal import Principal
from apps.tenants.models import Tenant
from thirdlane.api.errors import DomainError, NotFound
from thirdlane.api.permissions import principal_of
from thirdlane.api.serializers import reject_unknown_fields
from thirdlane.context import tenant_var


def _static(obj, name: str) -> Callable | None:
    """A service declared as a plain function on the class, without binding it as a method."""
    try:
        value = inspect.getattr_static(obj, name)
    except AttributeError:
        return None
    if isinstance(value, staticmethod):
        value = value.__func__
    return value


class ApiViewSet(viewsets.GenericViewSet):
    """What every API viewset does, whatever its resource."""

    max_body_bytes: int = settings.API_MAX_BODY_BYTES
    # Extra query parameters a list accepts besides its filters (for StrictFilterBackend).
    extra_query_params: tuple[str, ...] = ()
    # The code of the 404 for an unknown object (``/api/tenants/<unknown>/`` is ``tenant_not_found``).
    not_found_code = "not_found"

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

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if "data" in kwargs:
            reject_unknown_fields(serializer, kwargs["data"])
        return serializer

    def body(self, serializer_class, *, instance=None, partial: bool = False, **kwargs):
        """The request body of a custom action, validated by ``serializer_class`` (unknown fields
        refused like everywhere else)."""
        kwargs.setdefault("context", self.get_serializer_context())
        serializer = serializer_class(instance, data=self.request.data, partial=partial, **kwargs)
        reject_unknown_fields(serializer, self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound(code=self.not_found_code) from None

    def service_kwargs(self) -> dict[str, Any]:
        return {"actor": self.principal}

    def paginated(self, items, serializer_class=None, **serializer_kwargs) -> Response:
        """Paginate any sequence with X-Total-Count and Link, like a queryset list."""
        page = self.paginate_queryset(items)
        if serializer_class is not None:
            page = serializer_class(page, many=True, context=self.get_serializer_context(),
                                    **serializer_kwargs).data
        return self.get_paginated_response(page)


def crud_services(module, name: str) -> tuple[staticmethod, staticmethod, staticmethod]:
    """``create_service, update_service, delete_service = crud_services(services, "ring_group")``:
    the module's ``<name>_create``, ``<name>_update`` and ``<name>_delete``."""
    return tuple(staticmethod(getattr(module, f"{name}_{verb}")) for verb in ("create", "update", "delete"))


class ServiceWritesMixin:
    """create/update/destroy call the services the viewset names, and nothing else."""

    create_service: Callable | None = None
    update_service: Callable | None = None
    delete_service: Callable | None = None

    _SERVICES = {"create": "create_service", "update": "update_service", "partial_update": "update_service",
                 "destroy": "delete_service"}
    _PERFORM = {"create": "perform_create", "update": "perform_update", "partial_update": "perform_update",
                "destroy": "perform_destroy"}

    @classmethod
    def offers(cls, action: str) -> bool:
        """Whether the viewset really does ``action``: a write needs its service, or the viewset's
        own implementation of the action (``create``) or of its step (``perform_create``)."""
        service = cls._SERVICES.get(action)
        if service is None or _static(cls, service) is not None:
            return True
        return any(getattr(cls, name) is not getattr(base, name, None)
                   for name, base in ((action, _CrudViewSet), (cls._PERFORM[action], ServiceWritesMixin)))

    def _service(self, name: str) -> Callable:
        service = _static(self, name)
        if service is None:
            raise exceptions.MethodNotAllowed(self.request.method)
        return service

    def perform_create(self, serializer):
        service = self._service("create_service")
        serializer.instance = service(**self.service_kwargs(), **serializer.validated_data)

    def perform_update(self, serializer):
        service = self._service("update_service")
        serializer.instance = service(**self.service_kwargs(), instance=serializer.instance,
                                      **serializer.validated_data)

    def perform_destroy(self, instance):
        self._service("delete_service")(**self.service_kwargs(), instance=instance)


class _CrudViewSet(ServiceWritesMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                   mixins.UpdateModelMixin, mixins.DestroyModelMixin, mixins.ListModelMixin, ApiViewSet):
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]


class TenantScopedViewSet(_CrudViewSet):
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


class PlatformScopeMixin:
    """Rows of a public-schema resource limited to the caller's scope."""

    # Paths to a row's owners for ``Principal.scope_q``: {"tenant": ..., "reseller": ..., "organization": ...}.
    scope_fields: dict[str, str] | None = None

    def scope_queryset(self, queryset, principal: Principal):
        if self.scope_fields is None:
            raise NotImplementedError(f"{type(self).__name__} must say which rows each scope sees")
        return queryset.filter(principal.scope_q(**self.scope_fields))

    def get_queryset(self):
        queryset = super().get_queryset()
        principal = self.principal
        if principal is None:  # schema generation
            return queryset.none()
        return self.scope_queryset(queryset, principal)


class PlatformViewSet(PlatformScopeMixin, _CrudViewSet):
    """Base for public-schema resources (``/api/tenants/``, ``/api/api-keys/`` ...)."""


class ReadOnlyPlatformViewSet(PlatformScopeMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Read-only public resources (the audit log) with the same scope rule."""
