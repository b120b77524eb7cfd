"""Checks that a rendered file is in its vendor's documented format (``manage.py
provisioning_templates --check`` runs them over every template, shipped or the operator's).

    Yealink      first line ``#!version:1.0.0.1``; then blank lines, ``#`` comments and
                 ``key = value`` lines, keys of lower-case letters, digits, ``.`` and ``_``,
                 each key once
    Polycom      well-formed XML; a master file is an ``APPLICATION`` element with
                 ``CONFIG_FILES``; a configuration file holds its parameters as attributes
                 (``reg.1.address="..."``)
    Grandstream  well-formed XML: ``gs_provision`` > ``config version="1"`` > ``P<number>``
                 elements, each once, and ``mac`` (when present) the phone's
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

YEALINK_KEY = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)*$")


class FormatError(ValueError):
    pass


def yealink(text: str) -> dict[str, str]:
    lines = text.split("\n")
    if lines[0].rstrip("\r") != "#!version:1.0.0.1":
        raise FormatError("line 1 must be #!version:1.0.0.1")
    values: dict[str, str] = {}
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not YEALINK_KEY.match(key):
            raise FormatError(f"line {number}: not key = value: {line[:80]!r}")
        if key in values:
            raise FormatError(f"line {number}: {key} is set twice")
        values[key] = value.strip()
    return values


def _xml(text: str) -> ET.Element:
    try:
        return ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise FormatError(f"not well-formed XML: {exc}") from None


def polycom(text: str) -> dict[str, str]:
    """Every attribute of every element (the parameters), or the master file's attributes."""
    root = _xml(text)
    if root.tag == "APPLICATION":
        if not root.get("CONFIG_FILES"):
            raise FormatError("a master file names its CONFIG_FILES")
        return dict(root.attrib)
    values: dict[str, str] = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            if key in values:
                raise FormatError(f"{key} is set twice")
            values[key] = value
    if not values:
        raise FormatError("no parameters")
    return values


def grandstream(text: str, mac: str | None = None) -> dict[str, str]:
    root = _xml(text)
    if root.tag != "gs_provision" or root.get("version") != "1":
        raise FormatError('the root is <gs_provision version="1">')
    config = root.find("config")
    if config is None or config.get("version") != "1":
        raise FormatError('<config version="1"> is missing')
    found = root.findtext("mac")
    if mac is not None and found is not None and found != mac:
        raise FormatError(f"<mac> is {found}, not {mac}")
    values: dict[str, str] = {}
    for element in config:
        if not re.fullmatch(r"P\d+", element.tag):
            raise FormatError(f"<{element.tag}> is not a P-value")
        if element.tag in values:
            raise FormatError(f"{element.tag} is set twice")
        values[element.tag] = element.text or ""
    return values


def check(vendor: str, template: str, text: str, mac: str | None = None) -> dict[str, str]:
    if vendor == "yealink":
        return yealink(text)
    if vendor == "polycom":
        return polycom(text)
    if vendor == "grandstream":
        return grandstream(text, mac)
    raise FormatError(f"no checker for {vendor}")
