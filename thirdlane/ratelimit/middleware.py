"""RateLimit-* response headers (draft-ietf-httpapi-ratelimit-headers) on every counted request.

The throttle decides inside the view; the headers are added here, on the way out, so allowed
answers and the 429 carry the same fields whatever the view did with its response.
"""
from __future__ import annotations


class RateLimitHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        decision = getattr(request, "rate_limit", None)
        if decision is not None:
            for name, value in decision.headers().items():
                response[name] = value
        return response
