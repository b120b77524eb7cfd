"""Settings for the test suite: the real settings, with a Redis database of its own (so tests never
consume a developer's queued tasks), fast password hashing and plain-text logs."""
import os

os.environ.setdefault("LOG_FORMAT", "text")

from thirdlane.settings import *  # noqa: E402,F401,F403
from thirdlane.settings import env  # noqa: E402

REDIS_URL = env("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
