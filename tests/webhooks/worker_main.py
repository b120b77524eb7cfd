"""Run ``celery -A thirdlane worker`` for the webhook tests, with the test's settings.

    python -m tests.webhooks.worker_main <celery worker args...>

The test process and its workers must agree on settings that the environment does not carry
(the webhook queue, private targets allowed), so they are set here before the worker starts.
Everything else is the real app: same tasks, same broker transport, same database code.
"""
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

settings.WEBHOOK_QUEUE = os.environ["WEBHOOK_QUEUE"]
settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = os.environ.get("WEBHOOK_ALLOW_PRIVATE_TARGETS") == "1"

from thirdlane.celery import app  # noqa: E402

app.conf.task_default_queue = settings.WEBHOOK_QUEUE

if __name__ == "__main__":
    app.worker_main(["worker", *sys.argv[1:]])
