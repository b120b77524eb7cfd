"""The Celery app, tenant-aware: a task sent inside a tenant's schema runs in that schema.

tenant-schemas-celery records the sender's schema in the message headers and the worker
activates it around the task (and resets it afterwards), so a task never inherits the
previous task's search path.

Periodic tasks: settings.CELERY_BEAT_SCHEDULE plus each app's ``schedule.BEAT_SCHEDULE`` dict
(``apps/<app>/schedule.py``), so apps add their own entries without touching settings.
"""
import os
from importlib import import_module
from importlib.util import find_spec

from celery.beat import PersistentScheduler
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")

app = CeleryApp("thirdlane")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["thirdlane"], related_name="health")


def collect_beat_schedule() -> dict:
    from django.apps import apps as django_apps
    from django.conf import settings

    schedule = dict(settings.CELERY_BEAT_SCHEDULE)
    for config in django_apps.get_app_configs():
        if config.name.startswith("apps.") and find_spec(f"{config.name}.schedule"):
            schedule.update(getattr(import_module(f"{config.name}.schedule"), "BEAT_SCHEDULE", {}))
    return schedule


class BeatScheduler(PersistentScheduler):
    """The default scheduler, with the apps' schedules merged in when it sets up."""

    def setup_schedule(self):
        self.app.conf.beat_schedule = collect_beat_schedule()
        super().setup_schedule()
