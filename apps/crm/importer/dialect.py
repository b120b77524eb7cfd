"""Which delimiter: parse the first rows with each candidate and keep the most consistent."""
from __future__ import annotations

import csv
import io

CANDIDATES = (",", ";", "\t", "|")
NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
ALIASES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|", "\\t": "\t"}


class Dialect(csv.excel):
    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    strict = False


def make_dialect(delimiter: str) -> type[csv.Dialect]:
    return type("ImportDialect", (Dialect,), {"delimiter": delimiter})


def normalise_delimiter(value: str) -> str:
    value = ALIASES.get(value, value)
    if value not in CANDIDATES:
        raise ValueError(f"Unsupported delimiter {value!r}; use comma, semicolon, tab or pipe.")
    return value


def sniff_delimiter(text: str, max_rows: int = 200) -> str:
    """The candidate whose rows most often have the header's width (and more than one column)."""
    # Only complete lines: the sample may end in the middle of a row.
    cut = text.rfind("\n")
    if cut > 0 and len(text) >= 4096:
        text = text[:cut + 1]
    best, best_score = ",", (-1.0, 0)
    for delimiter in CANDIDATES:
        rows = []
        try:
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False):
                if row:
                    rows.append(len(row))
                if len(rows) >= max_rows:
                    break
        except csv.Error:
            continue
        if not rows or rows[0] < 2:
            continue
        width = rows[0]
        consistency = sum(1 for n in rows if n == width) / len(rows)
        score = (consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best
