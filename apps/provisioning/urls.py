"""``/provisioning/<file>``: what phones fetch (views.provision). Mounted by thirdlane.urls."""
from django.urls import re_path

from apps.provisioning.views import provision

urlpatterns = [
    re_path(r"^(?P<filename>[^/]{1,64})$", provision, name="provisioning-file"),
]
