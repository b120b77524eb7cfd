"""Reading an uploaded file: text stream, delimiter, header checks, the column map."""
from __future__ import annotations

import csv
import io
from typing import Callable, Iterable

from apps.crm.importer import mapping
from apps.crm.importer.decoding import FileInfo, ImportFileError
from apps.crm.importer.dialect import make_dialect, normalise_delimiter, sniff_delimiter
from apps.crm.importer.source import ChunkStream

csv.field_size_limit(1024 * 1024)


def decode_errors(encoding: str) -> str:
    """UTF files were checked whole at upload, so a bad byte there is a bug; a legacy single-byte
    file can only hold a few undefined bytes (cp1252), which become U+FFFD rather than a failure."""
    return "strict" if encoding.replace("_", "-").startswith("utf") else "replace"


def open_text(chunks: Iterable[bytes], encoding: str) -> io.TextIOWrapper:
    raw = io.BufferedReader(ChunkStream(chunks), buffer_size=256 * 1024)
    return io.TextIOWrapper(raw, encoding=encoding, errors=decode_errors(encoding), newline="")


def detect_delimiter(info: FileInfo, declared: str = "") -> str:
    if declared:
        try:
            return normalise_delimiter(declared)
        except ValueError as exc:
            raise ImportFileError(str(exc)) from None
    text = info.sample.decode(info.encoding, errors="ignore")
    return sniff_delimiter(text)


def read_header(reader) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    while header is not None and not any(c.strip() for c in header):
        header = next(reader, None)
    if not header:
        raise ImportFileError("The file has no header row (the first line is empty).")
    return [h.strip().lstrip("\ufeff").strip() for h in header]


def check_header(headers: list[str], custom_defs, explicit_map: bool) -> None:
    seen: dict[str, int] = {}
    dupes = []
    for h in headers:
        if not h:
            continue
        key = h.lower()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            dupes.append(h)
    if dupes:
        raise ImportFileError(f"Duplicate column names in the header: {', '.join(repr(d) for d in dupes)}. "
                              "Rename them so each column has its own name.")
    if not any(headers):
        raise ImportFileError("The file has no header row: the first row has no column names.")
    if explicit_map:
        return
    suggested = mapping.suggest(headers, custom_defs)
    if not any(spec["field"] for spec in suggested.values()):
        data_like = [h for h in headers if "@" in h or (h[:1] in "+0123456789" and sum(c.isdigit() for c in h) >= 5)]
        if data_like:
            raise ImportFileError(
                "The first row looks like data, not column names (e.g. "
                f"{data_like[0]!r}). Add a header row such as: First name,Last name,Email,Phone.")
        raise ImportFileError("None of the columns matches a contact field. Give a column map, or name the "
                              "columns e.g. First name, Last name, Email, Phone, Company.")


def resolve_columns(headers: list[str], columns: dict | None, custom_defs) -> tuple[dict, list[str]]:
    custom_names = {d.name for d in custom_defs}
    if columns is None:
        columns = mapping.suggest(headers, custom_defs)
    columns = mapping.validate_columns(columns, custom_names)
    missing = [h for h, spec in columns.items() if spec["field"] and h not in headers]
    if missing:
        raise ImportFileError(f"The map uses column(s) {', '.join(repr(m) for m in missing)} that are not in the "
                              f"file. The file's columns: {', '.join(repr(h) for h in headers)}.")
    mapped = {h for h, spec in columns.items() if spec["field"]}
    if not mapped:
        raise ImportFileError("The map sends no column to a contact field.")
    ignored = [h for h in headers if h and h not in mapped]
    return columns, ignored


# --- record numbering and quotes that never close ---------------------------------------------------
# Rows are numbered by the line of the file they start on, the header being line 1: the number an
# editor shows, and the spreadsheet row number as long as no cell holds a line break.

def records(reader):
    """``(line, last_line, cells)`` for each record of a csv reader: the line it starts on and the
    line it ends on (they differ when a quoted cell holds line breaks)."""
    end = reader.line_num
    for cells in reader:
        start = end + 1
        end = reader.line_num
        yield start, end, cells


def swallowed_rows(cells: list[str], delimiter: str, width: int) -> int:
    """How many lines inside this record's cells look like rows of their own (the header's number
    of delimiters): a quote that opened a cell and closed only much later swallowed them."""
    if width < 3:
        return 0
    count = 0
    for cell in cells:
        if "\n" in cell:
            count += sum(1 for line in cell.split("\n")[1:] if line.count(delimiter) >= width - 1)
    return count


def swallowed_issue(line: int, last_line: int, rows: int) -> dict:
    return {"column": "", "field": "", "code": "unterminated_quote",
            "message": f"A quote opened on line {line} closes only on line {last_line}: the cell swallowed {rows} "
                       "line(s) that look like rows of their own. Close the quote on line "
                       f"{line} (or remove it)."}


def unterminated_quote_line(open_again: Callable[[], Iterable[str]], delimiter: str) -> int | None:
    """The line of the quote that is still open at the end of the file, or None.

    Python's csv reader (like Excel) reads an unclosed quote as a cell that runs to the end of the
    file, so every record after it would vanish into one cell. Called only when the file holds an
    odd number of quote characters (counted while its bytes go by); this pass finds the last
    record's first line, and a strict reader over the rest of the file says whether it ends inside
    a quoted cell."""
    reader = csv.reader(open_again(), dialect=make_dialect(delimiter))
    start = None
    for start, _, _ in records(reader):
        pass
    if start is None:
        return None
    text = iter(open_again())
    for _ in range(start - 1):
        next(text, None)
    strict = type("StrictDialect", (make_dialect(delimiter),), {"strict": True})
    try:
        for _ in csv.reader(text, dialect=strict):
            pass
    except csv.Error as exc:
        return start if "unexpected end of data" in str(exc) else None
    return None


def unterminated_quote_error(line: int) -> ImportFileError:
    return ImportFileError(f"Line {line}: a quote (\") opens a cell that is never closed, so everything after it "
                           "would be read as one cell and the rows below it would be lost. Close the quote or "
                           "remove it, then upload the file again.", code="import_file_invalid")
