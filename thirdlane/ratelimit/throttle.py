"""The DRF throttle that enforces the API rate limits (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]).

DRF runs throttles after authentication and permissions, so only authenticated requests are
counted here; failed logins have their own counters (``thirdlane.ratelimit.login``). A refusal
raises ``Throttled``, which the API's exception handler answers with 429 ``rate_limited`` and
``Retry-After``. The decision is left on the request for ``RateLimitHeadersMiddleware``.
"""
from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from apps.accounts.principal import Principal
from thirdlane.ratelimit import limiter, policy


class ApiRateThrottle(BaseThrottle):
    def __init__(self):
        self.decision: limiter.Decision | None = None

    def allow_request(self, request, view) -> bool:
        if not settings.RATE_LIMIT_ENABLED:
            return True
        principal = request.auth
        if not isinstance(principal, Principal):
            return True
        buckets = policy.buckets_for(principal, getattr(view, "kwargs", {}).get("tenant"))
        self.decision = limiter.hit(buckets)
        if self.decision is None:  # nothing to count, or Redis is down: fail open
            return True
        # On the Django request, which the middleware sees (DRF's Request only wraps it).
        request._request.rate_limit = self.decision
        return self.decision.allowed

    def wait(self) -> float | None:
        return self.decision.retry_after if self.decision else None
