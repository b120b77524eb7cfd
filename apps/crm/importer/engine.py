"""The import pipeline: parse the file once, COPY valid rows into a temp table, then dedupe and
write with a few set-based statements.

    read     bytes -> text (detected encoding) -> csv rows (detected delimiter), streamed
    check    each row against the map (RowCompiler): bad rows become issues, good rows are
             COPYed into ``crm_import_stage`` (memory stays flat in the file size)
    analyse  in SQL over the stage: duplicates inside the file, matches with existing contacts
             (the dedupe rule), clashes with unique values of other contacts, required custom fields
    write    accounts for new company names, UPDATE the matched contacts, INSERT the rest
             ... ON CONFLICT DO NOTHING (or, for "match on e-mail, update", one upsert)

Two ways through it:
- single pass (previews and all-or-nothing jobs): stage the whole file, analyse, then write in one
  transaction, or not at all. A preview runs inside a transaction that is rolled back, so it
  writes nothing and its counts are exactly what the import would do.
- pipelined (commit_valid jobs): a parser thread hands 10,000-row batches to the job's
  connection, which stages, analyses and writes each one in its own transaction while the next
  is parsed (``pipeline.Pipelined``; the SQL is in ``sql.StageSQL``).
"""
from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from django.db import connection, transaction

from apps.crm import customfields
from apps.crm.importer.decoding import FileInfo, ImportFileError
from apps.crm.importer.dialect import make_dialect
from apps.crm.importer.pipeline import Pipelined
from apps.crm.importer.reading import (  # noqa: F401  (re-exported: the engine's reading helpers)
    check_header, detect_delimiter, open_text, read_header, records, resolve_columns, swallowed_issue,
    swallowed_rows, unterminated_quote_error, unterminated_quote_line,
)
from apps.crm.importer.rows import RowCompiler
from apps.crm.importer.sql import StageSQL
from apps.crm.models import ImportMap

BATCH_ROWS = 5000


@dataclass
class Options:
    columns: dict | None = None  # None: the suggested map
    dedupe_on: str = ImportMap.DedupeOn.EMAIL
    on_match: str = ImportMap.OnMatch.UPDATE
    mode: str = "commit_valid"
    delimiter: str = ""  # "" = detect
    region: str = "US"


@dataclass
class Outcome:
    encoding: str = ""
    delimiter: str = ""
    headers: list = field(default_factory=list)
    columns: dict = field(default_factory=dict)
    rows: int = 0
    to_create: int = 0
    to_update: int = 0
    skipped: int = 0
    errors: int = 0
    created: int = 0
    updated: int = 0
    accounts_created: int = 0
    committed: bool = False
    sample: list = field(default_factory=list)  # preview: the first rows as they would be stored
    issues: list = field(default_factory=list)  # preview: the first issues
    errors_by_column: dict = field(default_factory=dict)
    ignored_columns: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)  # seconds per phase: read, analyse, write


# --- issues: a job stores all of them, a preview keeps the first few and the counts --------------
class IssueSink:
    def __init__(self, job_id: int | None = None, keep: int = 200):
        self.job_id = job_id
        self.keep = keep
        self.kept: list[dict] = []
        self.by_column: dict[str, int] = {}
        self.errors = 0
        self.skipped = 0
        self._buffer: list[tuple] = []

    def add(self, row: int, line: int, level: str, messages: list[dict]) -> None:
        if level == "error":
            self.errors += 1
        else:
            self.skipped += 1
        for m in messages:
            key = m.get("column") or "(row)"
            self.by_column[key] = self.by_column.get(key, 0) + 1
        if self.job_id is not None:
            self._buffer.append((self.job_id, row, line, level, json.dumps(messages, ensure_ascii=False)))
            if len(self._buffer) >= BATCH_ROWS:
                self.flush()
        elif len(self.kept) < self.keep:
            self.kept.append({"row": row, "line": line, "level": level, "messages": messages})

    def flush(self) -> None:
        if not self._buffer:
            return
        with connection.cursor() as cursor:
            with cursor.copy("COPY crm_importrowissue (job_id, row, line, level, messages) FROM STDIN") as copy:
                for item in self._buffer:
                    copy.write_row(item)
        self._buffer.clear()



# --- the run -------------------------------------------------------------------------------------
class ImportRun(Pipelined, StageSQL):
    """One pass over a file. ``commit=False`` is a preview; the caller owns the transaction."""

    def __init__(self, *, chunks: Callable[[], Iterator[bytes]], info: FileInfo, options: Options,
                 sink: IssueSink, job_id: int | None = None, commit: bool = False,
                 progress: Callable[[int], None] | None = None, sample_rows: int = 0,
                 on_written: Callable[[Outcome], None] | None = None, pipelined: bool = True):
        self.chunks = chunks
        self.info = info
        self.options = options
        self.sink = sink
        self.job_id = job_id
        self.commit = commit
        self.progress = progress
        self.sample_rows = sample_rows
        # Called inside the write transaction, after the rows: the job's result and its event
        # commit with the contacts.
        self.on_written = on_written
        self.pipelined = pipelined
        self.mapped: set[str] = set()
        self._account_ids: dict[str, int] = {}
        self._pipelining = False
        self.outcome = Outcome(encoding=info.encoding)

    def run(self) -> Outcome:
        out = self.outcome
        custom_defs = customfields.definitions("contact")
        out.delimiter = detect_delimiter(self.info, self.options.delimiter)
        self.quotes = 0
        text = open_text(self._counting_quotes(), self.info.encoding)
        reader = csv.reader(text, dialect=make_dialect(out.delimiter))
        try:
            headers = read_header(reader)
            check_header(headers, custom_defs, explicit_map=self.options.columns is not None)
            out.headers = headers
            out.columns, out.ignored_columns = resolve_columns(headers, self.options.columns, custom_defs)
            self.mapped = {spec["field"] for spec in out.columns.values() if spec["field"]}
            if "full_name" in self.mapped:
                self.mapped |= {"first_name", "last_name"}
            if self.options.on_match == "create" and self.options.dedupe_on in ("email", "external_id"):
                raise ImportFileError(f"Contacts' {self.options.dedupe_on} is unique: on a match choose update "
                                      "or skip.")
            compiler = RowCompiler(headers, out.columns, custom_defs, self.options.region)
            self._create_stage()
            if self.commit and self.options.mode == "commit_valid" and self.pipelined:
                return self._run_pipelined(compiler, custom_defs, headers)
            started = time.perf_counter()
            self._load(reader, compiler, text)
            if self.quotes % 2:
                self.check_quotes(lambda: open_text(self.chunks(), self.info.encoding))
            out.timings["read"] = time.perf_counter() - started
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from None
        except csv.Error as exc:
            raise ImportFileError(f"The CSV cannot be read near line {reader.line_num}: {exc}.") from None
        self.sink.flush()
        started = time.perf_counter()
        to_create, _ = self._analyse(custom_defs)
        out.timings["analyse"] = time.perf_counter() - started
        out.errors = self.sink.errors
        out.skipped += self.sink.skipped
        if self.commit and not (self.options.mode == "all_or_nothing" and out.errors):
            started = time.perf_counter()
            with transaction.atomic():
                self._write(to_create)
                out.committed = True
                if self.on_written:
                    self.on_written(out)
            out.timings["write"] = time.perf_counter() - started
        out.errors_by_column = dict(sorted(self.sink.by_column.items(), key=lambda kv: -kv[1]))
        out.issues = self.sink.kept
        return out

    def _counting_quotes(self) -> Iterator[bytes]:
        for chunk in self.chunks():
            self.quotes += chunk.count(b'"')
            yield chunk

    def check_quotes(self, open_again) -> None:
        """An odd number of quote characters: is one left open at the end of the file?"""
        line = unterminated_quote_line(open_again, self.outcome.delimiter)
        if line is not None:
            raise unterminated_quote_error(line)

    def _decode_error(self, exc: UnicodeDecodeError) -> ImportFileError:
        return ImportFileError(
            f"The file is not valid {self.info.encoding} (byte {exc.object[exc.start:exc.start + 1]!r} "
            "cannot be decoded). Save it as UTF-8, or give the encoding (e.g. latin-1, cp1252).")


    def _load(self, reader, compiler: RowCompiler, text) -> None:
        out = self.outcome
        batch: list[list] = []
        sink = self.sink
        sample = self.sample_rows
        process = compiler.process
        row_no = 0
        width, delimiter = compiler.width, out.delimiter
        last_progress = time.monotonic()
        for line, last_line, cells in records(reader):
            row_no += 1
            if not cells or not any(cells):
                out.skipped += 1  # blank line
                continue
            if last_line != line and (swallowed := swallowed_rows(cells, delimiter, width)):
                sink.add(line, line, "error", [swallowed_issue(line, last_line, swallowed)])
                continue
            values, messages = process(cells, line, line)
            if values is None:
                sink.add(line, line, "error", messages)
                continue
            batch.append(values)
            if sample and len(out.sample) < sample:
                out.sample.append(values)
            if len(batch) >= BATCH_ROWS:
                self._copy(batch)
                batch.clear()
                sink.flush()
                if self.progress and time.monotonic() - last_progress > 0.5:
                    self.progress(row_no)
                    last_progress = time.monotonic()
        if batch:
            self._copy(batch)
        out.rows = row_no

