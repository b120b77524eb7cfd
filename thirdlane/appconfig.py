from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig


class ThirdlaneAppConfig(AppConfig):
    """Base for our apps: at start-up each app registers its error codes, event types and tasks
    by having modules named ``errors``, ``event_types``, ``tasks``, ``ami_handlers`` (AMI events,
    see apps.pbx.listening) and ``agi_handlers`` (FastAGI scripts, see apps.pbx.agi.register)."""

    default_auto_field = "django.db.models.BigAutoField"
    autoload_modules = ("errors", "event_types", "tasks", "ami_handlers", "agi_handlers")

    def ready(self):
        for module in self.autoload_modules:
            if find_spec(f"{self.name}.{module}"):
                import_module(f"{self.name}.{module}")
