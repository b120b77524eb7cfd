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


# The same rule in SQL, for files PostgreSQL writes itself (COPY ... TO STDOUT, apps/billing):
# PostgreSQL's regular expressions, ASCII digits and POSIX spaces (a cell Python would leave
# alone because of a non-ASCII digit is neutralised here: the safe side).
_SQL_SIGNED_PLAIN = r"^[+-][0-9[:space:]().\-/]*([[:space:]]*(ext\.?|x|#)[[:space:]]*[0-9]+)?$"


def sql_neutralise(expression: str) -> str:
    """A SQL expression: ``expression`` (text) with a leading apostrophe where ``neutralise``
    would put one."""
    return (f"CASE WHEN {expression} ~ '^[=@\\t\\r]' OR ({expression} ~ '^[+-]' AND {expression} !~* "
            f"'{_SQL_SIGNED_PLAIN}') THEN '''' || {expression} ELSE {expression} END")
