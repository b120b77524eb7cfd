from rest_framework import exceptions, permissions

from apps.accounts.principal import Principal


def principal_of(request) -> Principal | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Principal) else None


class IsAuthenticatedPrincipal(permissions.BasePermission):
    """Authenticated, not a suspended tenant's credential, and read-only credentials only read."""

    def has_permission(self, request, view) -> bool:
        principal = principal_of(request)
        if principal is None:
            raise exceptions.NotAuthenticated()
        if principal.tenant_suspended:
            raise exceptions.PermissionDenied("The tenant is suspended.", code="tenant_suspended")
        if request.method not in permissions.SAFE_METHODS and principal.read_only:
            if not getattr(view, "read_only_may_post", False):
                raise exceptions.PermissionDenied("The credential is read-only.", code="read_only_credential")
        return True


class IsSystem(IsAuthenticatedPrincipal):
    """Platform objects only system admins and system keys may touch (servers, locations)."""

    def has_permission(self, request, view) -> bool:
        super().has_permission(request, view)
        if not principal_of(request).is_system:
            raise exceptions.PermissionDenied("Only system credentials may do this.", code="permission_denied")
        return True


class SystemWritesOthersRead(IsAuthenticatedPrincipal):
    """Anyone in scope reads; only system credentials write."""

    def has_permission(self, request, view) -> bool:
        super().has_permission(request, view)
        if request.method not in permissions.SAFE_METHODS and not principal_of(request).is_system:
            raise exceptions.PermissionDenied("Only system credentials may change this.", code="permission_denied")
        return True
