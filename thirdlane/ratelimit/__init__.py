"""API rate limits and login throttling, kept in Redis so every web worker shares them.

``limiter``   GCRA buckets checked and consumed by one Lua script (one round trip).
``policy``    which buckets a request falls in (its credential, its tenant) and their limits.
``throttle``  the DRF throttle class that applies them; ``middleware`` adds the RateLimit-* headers.
``login``     failed-login counters per user name and per client address (HTTP Basic and the admin).
``store``     the Redis connection; when Redis is unreachable every check fails open.
"""
