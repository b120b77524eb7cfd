"""The Celery app, tenant-aware: a task sent inside a tenant's schema runs in that schema.

tenant-schemas-celery records the sender's schema in the message headers and the worker
activates it around the task (and resets it afterwards), so a task never inherits the
previous task's search path.
"""
import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")

app = CeleryApp("thirdlane")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
