"""Render a PBX server's configuration from the database, deterministically.

    rendered = render_server(server)
    rendered.files["pjsip.conf"]      # text
    rendered.checksum                 # SHA-256 over every file, in name order

The tenants rendered are the active tenants whose ``primary_server`` is the server (suspended
tenants are left out, so their phones stop registering once the push reloads). Loading costs a
fixed number of queries whatever the number of extensions (see loader.py); rendering is plain
string building over sorted rows, so the same database gives byte-identical files.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from apps.pbx.render import dialplan, features, loader, pjsip, queues, sounds, voicemail
from apps.pbx.render.view import TenantView

FILES = ("confbridge.conf", "extensions.conf", "musiconhold.conf", "pjsip.conf", "queues.conf", "res_parking.conf",
         "voicemail.conf")


@dataclass
class RenderedConfig:
    files: dict[str, str]
    tenants: list[str] = field(default_factory=list)
    tenant_ids: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # rows left out: unusable identifiers
    views: list = field(default_factory=list, repr=False, compare=False)  # what was rendered from

    @property
    def checksum(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()


_PASSWORD_LINE = re.compile(r"(?m)^(password\s*=\s*).*$")
_MAILBOX_LINE = re.compile(r"(?m)^(\d+\s*=>\s*)[^,\n]*")
REDACTED = "********"


def redacted(files: dict[str, str]) -> dict[str, str]:
    """The files with SIP passwords and voicemail PINs replaced: what the API shows. Secrets are
    write-only in the API; the real values only ever go to the server's config_dir."""
    out = dict(files)
    if "pjsip.conf" in out:
        out["pjsip.conf"] = _PASSWORD_LINE.sub(lambda m: m.group(1) + REDACTED, out["pjsip.conf"])
    if "voicemail.conf" in out:
        out["voicemail.conf"] = _MAILBOX_LINE.sub(lambda m: m.group(1) + REDACTED, out["voicemail.conf"])
    return out


def _attach_intersite(views: list[TenantView], server) -> None:
    """Site-code routes of organization members hosted on this server (one query for all)."""
    from types import SimpleNamespace

    from apps.organizations.selectors import intersite_routes_by_tenant

    routes = intersite_routes_by_tenant([SimpleNamespace(pk=v.info.id) for v in views], server=server)
    for view in views:
        view.intersite = routes.get(view.info.id, [])


def render_views(views: list[TenantView], server) -> RenderedConfig:
    _attach_intersite(views, server)
    sounds.attach(views, server)
    files = {
        "extensions.conf": dialplan.render(views, server.name),
        "musiconhold.conf": sounds.render(views, server.name),
        "pjsip.conf": pjsip.render(views, server),
        "queues.conf": queues.render(views, server.name),
        "confbridge.conf": features.render_confbridge(views, server.name),  # conferences (issue 12)
        "res_parking.conf": features.render_parking(views, server.name),  # parking lots (issue 12)
        "voicemail.conf": voicemail.render(views, server.name),
    }
    return RenderedConfig(files=files, tenants=[v.slug for v in views], tenant_ids=[v.info.id for v in views],
                          skipped=[item for v in views for item in v.skipped], views=views)


def render_server(server, *, chunk: int = loader.DEFAULT_CHUNK) -> RenderedConfig:
    tenants = loader.tenants_of_server(server.pk)
    data = loader.load(tenants, chunk=chunk)
    return render_views([TenantView(d) for d in data], server)
