"""``GET /provisioning/<file>``: a phone fetches its configuration.

    1. The file name must be one a vendor uses (catalog.route), else 404: nothing is looked up.
    2. No credentials: 401 with a Digest challenge.
    3. The user name is the phone's MAC; one indexed look-up in the platform index finds the
       phone's tenant, its primary server and its credential. An unknown MAC, a wrong password,
       a file named after another MAC, a phone of a suspended tenant: the same 401, with the same
       work done, so a caller cannot tell them apart. Failures count per client address (429
       past the limit).
    4. The phone, its lines and their extensions (one statement on the tenant's schema-qualified
       tables, lookup.py), its vendor's template for that file, rendered with the tenant's primary
       PBX server. A disabled phone or a file of another vendor is 404 (the caller has proved who it
       is); a tenant without a primary server is 503 (the phone keeps its current configuration).

Plain Django, not the REST framework: phones are not API clients, and the answer is the file.
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apps.provisioning import auth, catalog, lookup, macs, render
from apps.provisioning.registry.models import Device
from thirdlane.context import tenant_var
from thirdlane.ratelimit import store
from thirdlane.ratelimit.login import client_ip

NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
SEEN_EVERY = 60  # seconds between writes of a phone's last_seen_* (a phone polling often writes nothing)


def _plain(status: int, text: str, **headers) -> HttpResponse:
    response = HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")
    for name, value in {**NO_STORE, **headers}.items():
        response[name] = value
    return response


def unauthorized(*, stale: bool = False) -> HttpResponse:
    return _plain(401, "Authentication required.", **{"WWW-Authenticate": auth.challenge(stale=stale)})


# --- failures per client address --------------------------------------------------------------------
def _failure_key(ip: str) -> str:
    return f"rl:prov:ip:{ip}"


def _blocked(ip: str) -> int:
    """Seconds this address must wait; 0 when it may try (one GET on the hot path)."""
    key = _failure_key(ip)
    count = store.run(lambda client: client.get(key), None)
    if int(count or 0) < settings.PROVISIONING_FAILURES_PER_IP:
        return 0
    ttl = store.run(lambda client: client.ttl(key), -2)
    return ttl if ttl and ttl > 0 else settings.PROVISIONING_FAILURE_WINDOW


def _failed(ip: str) -> None:
    def count(client):
        pipe = client.pipeline(transaction=True)
        pipe.incr(_failure_key(ip))
        pipe.expire(_failure_key(ip), settings.PROVISIONING_FAILURE_WINDOW, nx=True)
        pipe.execute()

    store.run(count, None)


# --- the view --------------------------------------------------------------------------------------
@csrf_exempt
def provision(request, filename: str):
    if request.method not in ("GET", "HEAD"):
        return _plain(405, "Phones fetch their files with GET.", Allow="GET, HEAD")
    route = catalog.route(filename)
    if route is None:
        return _plain(404, "No such file.")
    credentials = auth.parse(request.META.get("HTTP_AUTHORIZATION", ""))
    if credentials is None:
        return unauthorized()
    ip = client_ip(request)
    wait = _blocked(ip)
    if wait:
        return _plain(429, "Too many failed attempts from this address.", **{"Retry-After": str(wait)})

    mac = macs.normalize(credentials.username)
    found = lookup.device(mac) if mac else None
    verdict = auth.verify(credentials, found.passwords() if found else [auth.dummy_password()],
                          method=request.method, path=request.path, secure=request.is_secure())
    if verdict.stale and found is not None:
        return unauthorized(stale=True)  # the right password with an old nonce: ask again, no failure counted
    if not verdict.ok or found is None or (route.mac and route.mac != mac) or not found.tenant.is_active:
        _failed(ip)
        return unauthorized()

    tenant_var.set(found.tenant.slug)
    phone = lookup.phone(found)
    rule = route.templates.get(phone.vendor) if phone is not None else None
    if phone is None or not phone.enabled or rule is None:
        return _plain(404, "No such file for this phone.")
    server = found.server
    if server is None or not server.is_active:
        return _plain(503, "The phone's PBX is not set up yet.", **{"Retry-After": "300"})
    ctx = render.context(phone=phone, lines=phone.lines, tenant=found.tenant, server=server, password=found.password,
                         base_url=render.provisioning_url(request), voicemail_code=phone.voicemail_code)
    body = render.render(rule, ctx)
    _seen(found, ip, request.META.get("HTTP_USER_AGENT", ""))
    response = HttpResponse(body, content_type=rule.content_type)
    for name, value in NO_STORE.items():
        response[name] = value
    return response


def _seen(device: lookup.DeviceRow, ip: str, agent: str) -> None:
    now = timezone.now()
    if device.last_seen_at and (now - device.last_seen_at).total_seconds() < SEEN_EVERY \
            and str(device.last_seen_ip) == ip:
        return
    Device.objects.filter(pk=device.id).update(last_seen_at=now, last_seen_ip=ip if ip != "unknown" else None,
                                               last_user_agent=agent[:200])
