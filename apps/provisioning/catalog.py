"""What the portal knows about phones: vendors, their models, and the files each one asks for.

A phone boots, asks the provisioning URL for a file named after its MAC address, and applies
what it gets. Each vendor has its own file names and format:

    vendor        asks for                      gets (template)            format
    yealink       <mac>.cfg                     yealink/mac.cfg            #!version:1.0.0.1 key = value
                  y000000000<nnn>.cfg           yealink/common.cfg         (the model-wide file; near empty)
    polycom       <mac>.cfg, 000000000000.cfg   polycom/master.cfg         <APPLICATION CONFIG_FILES=...>
                  <mac>-phone.cfg               polycom/phone.cfg          <PHONE_CONFIG> with reg.N.* attributes
    grandstream   cfg<mac>.xml                  grandstream/cfg.xml        <gs_provision> with P-values

Yealink and Polycom both ask for ``<mac>.cfg``: which file that is depends on the phone's vendor,
known once the phone has authenticated. A model is a key of its vendor with the number of SIP
accounts (lines) it has; ``PROVISIONING_EXTRA_MODELS`` adds models (``vendor:MODEL:lines``, comma
separated), served by the vendor's templates or by a model-specific one the operator adds
(docs/provisioning.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings


@dataclass(frozen=True)
class FileRule:
    pattern: str  # a regular expression over the lower-cased file name; (?P<mac>) when it names the phone
    template: str  # file name of the template in provisioning/<vendor>/
    content_type: str

    @property
    def regex(self) -> re.Pattern:
        return _compile(self.pattern)


@dataclass(frozen=True)
class Vendor:
    key: str
    label: str
    files: tuple[FileRule, ...]
    models: dict[str, int] = field(default_factory=dict)  # model -> lines (SIP accounts)


TEXT = "text/plain; charset=utf-8"
XML = "application/xml; charset=utf-8"
_MAC = r"(?P<mac>[0-9a-f]{12})"
NO_MAC = "0" * 12

VENDORS: dict[str, Vendor] = {
    "yealink": Vendor(
        "yealink", "Yealink",
        files=(FileRule(rf"{_MAC}\.cfg", "mac.cfg", TEXT), FileRule(r"y[0-9]{12}\.cfg", "common.cfg", TEXT)),
        models={"T31P": 2, "T33G": 4, "T43U": 12, "T46U": 16, "T48U": 16, "T53W": 12, "T54W": 16, "T57W": 16,
                "T58W": 16}),
    "polycom": Vendor(
        "polycom", "Polycom (Poly)",
        files=(FileRule(rf"{_MAC}\.cfg", "master.cfg", XML), FileRule(r"000000000000\.cfg", "master.cfg", XML),
               FileRule(rf"{_MAC}-phone\.cfg", "phone.cfg", XML)),
        models={"VVX150": 2, "VVX250": 4, "VVX350": 6, "VVX450": 12}),
    "grandstream": Vendor(
        "grandstream", "Grandstream",
        files=(FileRule(rf"cfg{_MAC}\.xml", "cfg.xml", XML),),
        # Accounts 1-6 have the P-values of the GRP261x configuration template (see render.GS_ACCOUNT).
        models={"GRP2612": 2, "GRP2613": 3, "GRP2614": 4, "GRP2615": 5, "GRP2616": 6, "GXP1630": 3}),
}


@lru_cache(maxsize=32)
def _compile(pattern: str) -> re.Pattern:
    return re.compile(pattern)


@lru_cache(maxsize=1)
def _extra_models() -> dict[str, dict[str, int]]:
    """``PROVISIONING_EXTRA_MODELS``: ``yealink:T58A:16,polycom:VVX601:16``."""
    extra: dict[str, dict[str, int]] = {}
    for item in filter(None, (part.strip() for part in settings.PROVISIONING_EXTRA_MODELS.split(","))):
        vendor, model, lines = (item.split(":") + ["", ""])[:3]
        if vendor not in VENDORS or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", model) \
                or not lines.isdigit() or not 1 <= int(lines) <= 64:
            raise ValueError(f"PROVISIONING_EXTRA_MODELS: {item!r} is not vendor:MODEL:lines with a known vendor")
        extra.setdefault(vendor, {})[model] = int(lines)
    return extra


def models_of(vendor: str) -> dict[str, int]:
    return {**VENDORS[vendor].models, **_extra_models().get(vendor, {})}


def max_lines(vendor: str, model: str) -> int:
    return models_of(vendor).get(model, 0)


def vendor_choices() -> list[tuple[str, str]]:
    return [(v.key, v.label) for v in VENDORS.values()]


def model_choices() -> list[tuple[str, str]]:
    """Every model of every vendor (model keys are unique across vendors)."""
    return [(model, f"{VENDORS[v].label} {model}") for v in VENDORS for model in models_of(v)]


def vendor_of_model(model: str) -> str | None:
    for vendor in VENDORS:
        if model in models_of(vendor):
            return vendor
    return None


@dataclass(frozen=True)
class Route:
    """What a requested file name is: the template per vendor, and the MAC it names (if any)."""

    mac: str | None
    templates: dict[str, FileRule]


def route(filename: str) -> Route | None:
    """The file a phone asked for, or None for a name no vendor uses (a 404 before any look-up)."""
    name = filename.lower()
    if "/" in name or len(name) > 64:
        return None
    mac = None
    templates: dict[str, FileRule] = {}
    for vendor in VENDORS.values():
        for rule in vendor.files:
            match = rule.regex.fullmatch(name)
            named = match.groupdict().get("mac") if match else None
            if match is None or named == NO_MAC:  # 000000000000.cfg is Polycom's default master file
                continue
            mac = named or mac
            templates.setdefault(vendor.key, rule)
    return Route(mac, templates) if templates else None


def files_for(vendor: str, mac: str) -> list[str]:
    """The MAC-named files a phone of this vendor fetches (shown in the API)."""
    names = []
    for rule in VENDORS[vendor].files:
        if "(?P<mac>" in rule.pattern:
            names.append(re.sub(r"\(\?P<mac>[^)]*\)", mac, rule.pattern).replace("\\.", "."))
    return names
