"""Settings for the test suite: the real settings, with a Redis database of its own (so tests never
consume a developer's queued tasks), fast password hashing and plain-text logs."""
import os

os.environ.setdefault("LOG_FORMAT", "text")
# Rate limits stay on (every API test goes through them) but far above what any test sends;
# tests/platform/test_rate_limit.py sets small ones (its gunicorn workers through the environment,
# which wins over these defaults).
for _name, _value in {"RATE_LIMIT_PER_CREDENTIAL": "1000000", "RATE_LIMIT_PER_TENANT": "1000000",
                      "LOGIN_FAILURES_PER_USERNAME": "1000000", "LOGIN_FAILURES_PER_IP": "1000000"}.items():
    os.environ.setdefault(_name, _value)

from thirdlane.settings import *  # noqa: E402,F401,F403
from thirdlane.settings import env  # noqa: E402

REDIS_URL = env("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Converted sounds of the tests go to a directory of their own, one per test database, so the test
# process and the workers and servers it starts share it (tests/sounds set one per test).
SOUNDS_MEDIA_DIR = env("TEST_SOUNDS_MEDIA_DIR", "") or os.path.join(
    __import__("tempfile").gettempdir(), f"thirdlane-test-sounds-{env('TEST_DATABASE_NAME', 'test_thirdlane')}")
