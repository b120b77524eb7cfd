"""Routers. Tenant resources live under ``<resource>/<tenant>/``; each app registers its own
viewsets here from its ``api/urls.py`` (``tenant_router.register("extensions", ...)``)."""
from rest_framework.routers import SimpleRouter


class Router(SimpleRouter):
    # No trailing-slash requirement: /api/tenants and /api/tenants/ both work.
    def __init__(self):
        super().__init__()
        # DRF's SimpleRouter turns any truthy trailing_slash into "/"; set the optional slash here.
        self.trailing_slash = "/?"

    def get_method_map(self, viewset, method_map):
        # Only the writes a viewset really offers (``ServiceWritesMixin.offers``) are routed, so the
        # Allow header and the OpenAPI document name exactly the methods that work.
        bound = super().get_method_map(viewset, method_map)
        offers = getattr(viewset, "offers", None)
        return {method: action for method, action in bound.items() if offers is None or offers(action)}


platform_router = Router()
tenant_router = Router()


def tenant_prefix(resource: str) -> str:
    return rf"{resource}/(?P<tenant>[a-z][a-z0-9-]{{1,39}})"


def register_tenant_resource(resource: str, viewset, basename: str | None = None) -> None:
    tenant_router.register(tenant_prefix(resource), viewset, basename=basename or resource)
