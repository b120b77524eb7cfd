"""ASGI entry point of the stream process: ``uvicorn thirdlane.asgi:application``.

Serves the real-time event stream (``/api/events/<tenant>/stream``, apps.events.stream) with
one coroutine per client; every other path goes to Django's ASGI handler, so health checks and
a misrouted request still get an answer. The web process stays gunicorn ``thirdlane.wsgi``.
"""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
django_application = get_asgi_application()  # sets Django up before the stream app imports models

from apps.events.stream.asgi import EventStreamApp  # noqa: E402

application = EventStreamApp(django_application)
