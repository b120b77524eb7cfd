"""The bad inputs black-box probing of the running API found (issue #14), one test each.

- every date/time filter of every list endpoint: offsets PostgreSQL refuses are compared in UTC,
  offsets RFC 3339 does not allow and values with no UTC equivalent are 400 naming the parameter;
- an /api/ URL that matches no route answers problem+json 404 for every method (never the HTML
  CSRF page);
- documented operations exist, and what does not exist is not documented;
- a refused connection is reported as such, not as a timeout;
- a failed outbox nudge is one warning line, not a traceback.
"""
from __future__ import annotations

import logging
import socket
from urllib.parse import quote

import pytest
from django.test import Client
from django_filters import filters as df
from django.urls import URLPattern, URLResolver

pytestmark = pytest.mark.django_db

DATE_TIME_FILTERS = (df.IsoDateTimeFilter, df.DateTimeFilter, df.IsoDateTimeFromToRangeFilter,
                     df.DateTimeFromToRangeFilter)


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def list_date_time_params() -> list[tuple[str, str]]:
    """(path, parameter) for every date/time filter of every list endpoint under /api/."""
    import re

    from thirdlane.api import urls

    found = {}
    for regex, callback in _walk(urls.urlpatterns, "api/"):
        cls = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        if cls is None or actions.get("get") != "list" or getattr(cls, "filterset_class", None) is None:
            continue
        path = "/" + regex.replace("^", "").replace("$", "").replace("/?", "/")
        path = re.sub(r"\(\?P<tenant>[^)]*\)", "acme", path).replace("\\", "")
        if "(" in path or "[" in path:
            continue
        path = path.replace("//", "/")
        for name, flt in cls.filterset_class.base_filters.items():
            if isinstance(flt, DATE_TIME_FILTERS):
                names = [f"{name}_after", f"{name}_before"] if isinstance(flt, df.RangeFilter) or "Range" in type(
                    flt).__name__ else [name]
                for param in names:
                    found[(path, param)] = None
    return sorted(found)


PARAMS = list_date_time_params()


def test_the_walk_finds_the_filters_named_in_the_issue():
    paths = {p for p, _ in PARAMS}
    assert ("/api/tenants/", "created_after") in PARAMS
    assert any(p.startswith("/api/crm-contacts/") for p in paths)
    assert len(PARAMS) >= 15


@pytest.mark.parametrize("value", [
    "2024-01-01T00:00:00+24:00",  # RFC 3339: hours 00-23
    "2024-01-01T00:00:00-25:30",
    "2024-01-01T00:00:00+05:60",  # minutes 00-59
    "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-05:00",  # after year 9999 in UTC
], ids=["+24h", "-25h", "60min", "underflow", "overflow"])
@pytest.mark.parametrize("path,param", PARAMS, ids=[f"{p}?{n}" for p, n in PARAMS])
def test_out_of_range_offsets_on_every_list_date_time_filter_are_400(api, world, path, param, value):
    response = api("system").get(f"{path}?{param}={quote(value)}")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert body["code"] == "invalid_filter" and param in body["errors"], body


@pytest.mark.parametrize("path,param", PARAMS, ids=[f"{p}?{n}" for p, n in PARAMS])
def test_offsets_postgresql_refuses_are_compared_in_utc(api, world, path, param):
    # the probe's own value: -18:13 is a valid RFC 3339 offset that PostgreSQL cannot take
    response = api("system").get(f"{path}?{param}={quote('0758-06-23T01:52:42-18:13')}")
    assert response.status_code == 200, (response.status_code, response.content[:300])


UNKNOWN = ["/api/nothing-here", "/api/nothing-here/", "/api/tenants/acme/extra/deep/", "/api/extensions/acme/1/nope/",
           "/api/crm-contacts/acme/import/nope", "/api/x%20y/"]
METHODS = ["get", "post", "put", "patch", "delete", "options", "head"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", UNKNOWN)
@pytest.mark.parametrize("who", ["key", "session", "anonymous"])
def test_unknown_api_urls_are_problem_json_404_for_every_method(api, world, method, path, who):
    if who == "key":
        client = api("system").client
    else:
        client = Client(enforce_csrf_checks=True)
        if who == "session":
            assert client.login(username="admin", password="pw-admin-1")
    response = getattr(client, method)(path)
    assert response.status_code == 404, (method, path, response.status_code)
    assert response["Content-Type"].startswith("application/problem+json")
    if method != "head":
        assert response.json()["code"] == "not_found"


def test_documented_operations_exist_and_dead_ones_are_not_documented(api, world):
    document = api("system").get("/api/schema/?format=json").json()
    paths = document["paths"]
    assert "/api/contact-center/{tenant}/{id}/" not in paths
    assert "post" not in paths["/api/contact-center/{tenant}/agents/"]
    assert "post" not in paths["/api/crm-imports/{tenant}/"]
    config = paths["/api/servers/{id}/config/"]["get"]["responses"]["200"]["content"]
    assert set(config) == {"application/json", "text/plain"}
    assert api("acme").get("/api/contact-center/acme/").status_code == 200
    assert api("acme").get("/api/contact-center/acme/1/").status_code == 404
    assert api("acme").get("/api/contact-center/acme/1/").json()["code"] == "not_found"


def test_a_refused_connection_is_not_called_a_timeout(settings):
    from apps.webhooks import targets

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now: the connection is refused at once
    result = targets.post(f"http://127.0.0.1:{port}/hook", b"{}", {"Content-Type": "application/json"})
    assert not result.succeeded
    assert result.error.startswith("connection failed"), result.error
    assert "timeout" not in result.error
    assert result.duration_ms >= 1


def test_a_failed_outbox_nudge_is_one_warning_line(caplog):
    from apps.events import services

    def broken_nudge():
        raise ConnectionError("Error while reading from redis:6379 : (104, 'Connection reset by peer')")

    services._after_commit_hooks.append(broken_nudge)
    try:
        with caplog.at_level(logging.WARNING, logger="apps.events.services"):
            services._run_hooks()
    finally:
        services._after_commit_hooks.remove(broken_nudge)
    [record] = [r for r in caplog.records if "broken_nudge" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "ConnectionError" in record.getMessage() and "Connection reset by peer" in record.getMessage()
    assert "\n" not in record.getMessage()
