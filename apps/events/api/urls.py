from django.urls import re_path

from apps.events.api.views import EventStreamViewSet

# ``_all`` can never be a tenant slug (slugs start with a letter): every tenant in the caller's scope.
urlpatterns = [
    re_path(r"^events/(?P<tenant>_all|[a-z][a-z0-9-]{1,39})/stream/?$",
            EventStreamViewSet.as_view({"get": "stream"}), name="event-stream"),
]
