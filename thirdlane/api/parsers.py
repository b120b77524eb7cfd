"""The JSON parser: refuses NUL characters anywhere in the document.

PostgreSQL cannot store U+0000 in text, so a NUL that reached a query (a slug look-up, a search)
would fail there as a server error. Refusing it here names the field, once, for every endpoint.
"""
from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ValidationError


def _nul_paths(value, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "non_field_errors"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            found += [name] if "\x00" in str(key) else _nul_paths(item, name)
        return found
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _nul_paths(item, f"{path}[{index}]")]
    return []


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        bad = _nul_paths(data)
        if bad:
            raise ValidationError({path: ["Null characters are not allowed."] for path in bad[:20]},
                                  code="null_characters_not_allowed")
        return data
