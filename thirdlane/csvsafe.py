"""Cells that are safe to open in a spreadsheet: one rule for every CSV and XLSX the portal writes.

A cell starting with ``=``, ``@``, a tab or a carriage return is run as a formula by spreadsheet
programs (OWASP "CSV injection"); so is one starting with ``+`` or ``-`` unless it is a plain
signed number or phone number (``+1 415-555-0100``, ``-12.5``), which is shown as it is. Such a
cell is written with a leading apostrophe; ``unneutralise`` strips it again on import, so a file
the portal exported imports back unchanged.
"""
from __future__ import annotations

import re

FORMULA_FIRST = frozenset("=+-@\t\r")
SIGNED_PLAIN = re.compile(r"^[+-][\d\s().\-/]*(?:\s*(?:ext\.?|x|#)\s*\d+)?$", re.IGNORECASE)


def looks_like_formula(value: str) -> bool:
    if not value or value[0] not in FORMULA_FIRST:
        return False
    if value[0] in "+-":
        return SIGNED_PLAIN.match(value) is None
    return True


def neutralise(value):
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def unneutralise(value):
    if isinstance(value, str) and value.startswith("'") and looks_like_formula(value[1:]):
        return value[1:]
    return value
