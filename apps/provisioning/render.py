"""A phone's configuration files, rendered from per-vendor templates.

Templates are Django templates found, in this order, in ``PROVISIONING_TEMPLATE_DIRS`` (the
operator's) and in ``apps/provisioning/templates`` (shipped), under
``provisioning/<vendor>/<model>/<file>`` (one model) then ``provisioning/<vendor>/<file>``
(every model of the vendor). They are compiled once per process (the cached loader).

Every template gets the same context (docs/provisioning.md lists it): the phone, its lines with
the SIP credentials of their extensions, one slot per SIP account of the model (``slot.line`` is
None for an unused one, so a template can switch it off), the tenant's primary PBX server, the
time zone in each vendor's terms, the NTP server and the provisioning URL and credential the
phone keeps re-provisioning with. XML templates are auto-escaped; ``.cfg`` key = value templates
turn escaping off and pass free text through ``|cfg`` (one line, no control characters).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.template import Context, Engine, Library

from apps.provisioning import catalog, macs
from apps.provisioning.timezones import phone_time_zone
from apps.telephony.features import BY_KEY

SHIPPED = Path(__file__).resolve().parent / "templates"

# Grandstream P-values of SIP accounts 1-6 (GRP261x configuration template): the same settings
# live under different numbers per account.
GS_ACCOUNT = {
    1: dict(active=271, name=270, server=47, user_id=35, auth_id=36, password=34, display=3, voicemail=33,
            register=31, expires=32, transport=130, mwi=99),
    **{n: dict(active=base + 1, name=base + 17, server=base + 2, user_id=base + 4, auth_id=base + 5,
               password=base + 6, display=base + 7, voicemail=base + 26, register=base + 10, expires=base + 12,
               transport=base + 48, mwi=base + 15)
       for n, base in ((2, 400), (3, 500), (4, 600), (5, 1700), (6, 1800))},
}

register = Library()
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@register.filter
def cfg(value) -> str:
    """A value for a ``key = value`` line: one line, no control characters, no surrounding blanks."""
    return _CONTROL.sub(" ", str(value if value is not None else "")).strip()


@register.filter
def comment(value) -> str:
    """Text for inside an XML comment, which may not hold "--"."""
    return re.sub(r"-{2,}", "-", cfg(value)).rstrip("-")


@lru_cache(maxsize=1)
def engine() -> Engine:
    dirs = [*settings.PROVISIONING_TEMPLATE_DIRS, str(SHIPPED)]
    return Engine(dirs=dirs, autoescape=True, debug=False, libraries={"provisioning": "apps.provisioning.render"},
                  builtins=["apps.provisioning.render"],
                  loaders=[("django.template.loaders.cached.Loader", ["django.template.loaders.filesystem.Loader"])])


def template_names(vendor: str, model: str, file: str) -> list[str]:
    return [f"provisioning/{vendor}/{model.lower()}/{file}", f"provisioning/{vendor}/{file}"]


def template_for(vendor: str, model: str, file: str):
    return engine().select_template(template_names(vendor, model, file))


@dataclass
class Slot:
    position: str
    line: dict | None
    gs: dict | None  # Grandstream P-value names of this account (P271 ...), or None past account 6


def _change(change) -> dict | None:
    if change is None:
        return None
    return {"month": str(change.month), "week": str(change.week), "hour": str(change.hour), "yealink": change.yealink,
            "polycom_day_of_week": str(change.polycom_day_of_week), "polycom_date": str(change.polycom_date),
            "last_in_month": str(change.last_in_month)}


@lru_cache(maxsize=512)
def _time_zone(name: str) -> dict:
    """The zone's values as text (numbers rendered by the template engine go through localisation:
    strings made once per zone are much cheaper)."""
    tz = phone_time_zone(name)
    return {"name": tz.name, "posix": tz.posix, "offset": str(tz.offset), "yealink_offset": tz.yealink_offset,
            "dst": tz.dst, "dst_minutes": str(tz.dst_minutes), "start": _change(tz.start), "end": _change(tz.end)}


def provisioning_url(request=None) -> str:
    """The URL phones fetch from (ends with /)."""
    base = settings.PROVISIONING_BASE_URL or (request.build_absolute_uri("/provisioning/") if request else "")
    return base if base.endswith("/") else base + "/"


def context(*, phone, lines, tenant, server, password: str, base_url: str, voicemail_code: str | None = None) -> dict:
    """What every template sees. ``lines``: the phone's lines with their extensions loaded;
    ``voicemail_code``: the tenant's code for its own mailbox (default: the feature's default,
    ``*97``; "" when the tenant turned it off)."""
    voicemail = BY_KEY["voicemail"].default if voicemail_code is None else voicemail_code
    by_position = {}
    for line in lines:
        ext = line.extension
        username = ext.phone_username_for(tenant.slug)
        name = ext.caller_id_name or ext.name
        by_position[line.position] = {
            "position": str(line.position), "number": ext.number, "name": ext.name, "display_name": name,
            "label": line.label or f"{ext.number} {ext.name}".strip(), "username": username, "auth_name": username,
            "password": ext.sip_secret, "voicemail_number": voicemail if ext.voicemail_enabled else "",
            "enabled": ext.enabled,
        }
    count = max(catalog.max_lines(phone.vendor, phone.model), max(by_position, default=0))
    slots = []
    for position in range(1, count + 1):
        p = GS_ACCOUNT.get(position)
        slots.append(Slot(str(position), by_position.get(position),
                          {k: f"P{v}" for k, v in p.items()} if p else None))
    url = urlsplit(base_url)
    return {
        "phone": {"mac": phone.mac, "mac_colons": macs.colons(phone.mac), "mac_upper": phone.mac.upper(),
                  "vendor": phone.vendor, "model": phone.model, "name": phone.name},
        "admin_password": phone.admin_password,
        "tenant": {"slug": tenant.slug, "name": tenant.name, "timezone": tenant.timezone},
        "server": {"name": server.name, "address": server.sip_address, "port": str(int(server.sip_port)),
                   "transport": "udp"},
        "lines": [by_position[p] for p in sorted(by_position)],
        "slots": slots,
        "tz": _time_zone(tenant.timezone),
        "ntp_server": settings.PROVISIONING_NTP_SERVER,
        "register_expires": str(settings.PROVISIONING_REGISTER_EXPIRES),
        "register_expires_minutes": str(max(1, settings.PROVISIONING_REGISTER_EXPIRES // 60)),
        "resync_minutes": str(settings.PROVISIONING_RESYNC_MINUTES),
        "resync_seconds": str(settings.PROVISIONING_RESYNC_MINUTES * 60),
        "voicemail_number": voicemail,
        "provisioning": {"url": base_url, "scheme": url.scheme, "https": url.scheme == "https",
                         "host_path": (url.netloc + url.path).rstrip("/"), "username": phone.mac,
                         "password": password},
    }


def render(rule: catalog.FileRule, ctx: dict) -> str:
    phone = ctx["phone"]
    return template_for(phone["vendor"], phone["model"], rule.template).render(Context(ctx))
