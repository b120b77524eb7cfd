"""Country names and codes -> ISO 3166 alpha-2 regions, as phone parsing needs them.

A row's country decides how its national-format phones are read ("065 357 42 88" is French in
France, invalid in the US). Cells give it as an ISO code ("FR"), a name in English or in the
country's own language ("France", "Deutschland", "日本", "भारत"), or at the end of an address
("12 Rue de Rivoli, 75001 Paris, France"). The names come from the locale data ``phonenumbers``
ships (every region, in the languages below), so no list is kept here beyond a few aliases.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers

# Languages whose country names are recognised (the names of every region in each).
LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "tr", "ru", "uk", "el",
             "ar", "he", "hi", "ja", "zh", "ko", "th", "id", "vi", "hu", "ro", "ga", "ca", "hr", "sk", "bg", "ms")
ALIASES = {
    "usa": "US", "u s a": "US", "u s": "US", "america": "US", "united states of america": "US",
    "uk": "GB", "u k": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "holland": "NL", "the netherlands": "NL", "korea": "KR",
    "south korea": "KR", "republic of korea": "KR", "czech republic": "CZ", "russia": "RU", "uae": "AE",
    "türkiye": "TR", "turkiye": "TR", "viet nam": "VN", "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "deutschland": "DE", "österreich": "AT", "méxico": "MX", "brasil": "BR", "españa": "ES", "italia": "IT",
    "الإمارات العربية المتحدة": "AE", "emirates": "AE", "hellas": "GR",
}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(re.sub(r"[.\-_'’()]", " ", text).split())


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    from phonenumbers import geocoder

    names: dict[str, str] = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        for language in LANGUAGES:
            name = geocoder._region_display_name(region, language, None, None)
            if name:
                names.setdefault(_key(name), region)
    for alias, region in ALIASES.items():
        names[_key(alias)] = region
    return names


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    from phonenumbers.geodata.locale import LOCALE_DATA

    return frozenset(phonenumbers.SUPPORTED_REGIONS) | frozenset(k for k in LOCALE_DATA if len(k) == 2)


def region_of(value: str) -> str | None:
    """``"fr"``, ``"France"``, ``"Frankreich"`` -> ``"FR"``; None when it names no country."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) == 2 and text.isascii() and text.isalpha():
        code = text.upper()
        if code == "UK":
            return "GB"
        return code if code in _codes() else None
    return _names().get(_key(text))


def region_in_address(value: str) -> str | None:
    """The country an address ends with: ``"..., 75001 Paris, France"`` -> ``"FR"``."""
    parts = re.split(r"[,\n;]", (value or "").strip())
    return region_of(parts[-1]) if parts[-1].strip() else None
