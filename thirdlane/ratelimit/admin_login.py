"""Failed admin logins are throttled like HTTP Basic ones (both admin sites use this).

The form is built on first use: the admin sites are imported while Django is still loading its
apps, before the auth forms (and the user model under them) can be.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def throttled_login_form():
    from django.contrib.admin.forms import AdminAuthenticationForm
    from django.core.exceptions import ValidationError

    from thirdlane.ratelimit import login

    class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
        def clean(self):
            username = self.cleaned_data.get("username") or ""
            if not username or not self.cleaned_data.get("password"):
                return super().clean()  # the required-field errors say it all; nothing was tried
            ip = login.client_ip(self.request)
            wait = login.blocked_for(username, ip)
            if wait:
                # Checked before the password, in the same words for every name: no enumeration.
                raise ValidationError(login.message(wait), code="rate_limited")
            try:
                cleaned = super().clean()
            except ValidationError:
                login.record_failure(username, ip)
                raise
            login.record_success(username)
            return cleaned

    return ThrottledAdminAuthenticationForm


class ThrottledLoginSiteMixin:
    """For an AdminSite: its login form counts failures and refuses while throttled."""

    @property
    def login_form(self):
        return throttled_login_form()
