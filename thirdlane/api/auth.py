"""X-API-Key, HTTP Basic and session authentication, all producing a ``Principal``.

``request.auth`` is always the Principal; ``request.user`` is the Django user for Basic and
session, and a stand-in with ``is_authenticated = True`` for keys.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

from django.contrib.auth import get_user_model
from rest_framework import authentication, exceptions

from apps.accounts import keys
from apps.accounts.models import ApiKey
from apps.accounts.principal import Principal
from apps.accounts.services import api_key_touch
from thirdlane.context import actor_var
from thirdlane.ratelimit import login as login_throttle


class KeyUser:
    """What ``request.user`` is for an API key request."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, principal: Principal):
        self.principal = principal
        self.username = principal.label

    def __str__(self) -> str:
        return self.username


def _failed(detail: str, code: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(detail, code=code)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    header = "HTTP_X_API_KEY"

    def authenticate(self, request):
        raw = request.META.get(self.header)
        if raw is None:
            return None
        prefix = keys.parse(raw)
        if prefix is None:
            raise _failed("The API key is malformed (expected tl_<prefix>_<secret>).", "invalid_api_key")
        api_key = ApiKey.objects.select_related("tenant__reseller", "reseller").filter(prefix=prefix).order_by().first()
        if api_key is None or not keys.matches(raw.strip(), api_key.key_hash):
            raise _failed("The API key is not valid.", "invalid_api_key")
        state = api_key.state()
        if state == "revoked":
            raise _failed("The API key has been revoked.", "api_key_revoked")
        if state == "expired":
            raise _failed("The API key has expired.", "api_key_expired")
        api_key_touch(api_key)
        principal = Principal.for_api_key(api_key)
        actor_var.set(principal.label)
        return KeyUser(principal), principal

    def authenticate_header(self, request):
        return 'X-API-Key realm="api"'


class _VerifiedPasswords:
    """Remembers recent successful Basic logins for a few minutes.

    Password hashing (PBKDF2, ~1M iterations) costs hundreds of milliseconds; scripts sending
    Basic on every request would pay it each time. The cache key covers the stored hash, so a
    password change invalidates it; only digests are kept, never passwords.
    """

    def __init__(self, ttl: float = 300.0, size: int = 1024):
        self.ttl, self.size = ttl, size
        self._items: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def token(user, password: str) -> str:
        return hashlib.sha256(f"{user.pk}\0{user.password}\0{password}".encode()).hexdigest()

    def check(self, token: str) -> bool:
        with self._lock:
            expiry = self._items.get(token)
            return expiry is not None and expiry > time.monotonic()

    def add(self, token: str) -> None:
        with self._lock:
            self._items[token] = time.monotonic() + self.ttl
            self._items.move_to_end(token)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_verified = _VerifiedPasswords()


class BasicAuthentication(authentication.BasicAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        principal = Principal.for_user(user)
        actor_var.set(principal.label)
        return user, principal

    def authenticate_credentials(self, userid, password, request=None):
        # Throttled per user name and address before anything is looked up (429 rate_limited).
        ip = login_throttle.client_ip(request) if request is not None else "unknown"
        wait = login_throttle.blocked_for(userid, ip)
        if wait:
            raise exceptions.Throttled(wait, detail=login_throttle.message(wait))
        User = get_user_model()
        user = User.objects.select_related("tenant").filter(username=userid).first()
        if user is None or not user.is_active:
            User().set_password(password)  # same cost either way: no user enumeration by timing
            login_throttle.record_failure(userid, ip)
            raise _failed("The user name or password is wrong.", "invalid_credentials")
        token = _verified.token(user, password)
        if not _verified.check(token):
            if not user.check_password(password):
                login_throttle.record_failure(userid, ip)
                raise _failed("The user name or password is wrong.", "invalid_credentials")
            _verified.add(_verified.token(user, password))
            login_throttle.record_success(userid)
        return user, None


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser's session cookie; unsafe methods need the CSRF token (DRF enforces it)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        principal = Principal.for_user(user)
        actor_var.set(principal.label)
        return user, principal
