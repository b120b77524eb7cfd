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
  is parsed (see ``_run_pipelined``).
"""
from __future__ import annotations

import csv
import io
import json
import queue
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from django.db import connection, transaction

from apps.crm import customfields
from apps.crm.importer import mapping
from apps.crm.importer.decoding import FileInfo, ImportFileError
from apps.crm.importer.dialect import make_dialect, normalise_delimiter, sniff_delimiter
from apps.crm.importer.rows import STAGE_COLUMNS, RowCompiler, looks_like_formula
from apps.crm.importer.source import ChunkStream
from apps.crm.models import ImportMap

csv.field_size_limit(1024 * 1024)
BATCH_ROWS = 5000
PIPELINE_BATCH_ROWS = 10000
DEDUPE_KEY = {"email": "email", "phone": "phone_key", "external_id": "external_id"}
CONTACT_TEXTS = ["first_name", "last_name", "title", "email", "other_email", "phone", "mobile", "work_phone", "street",
                 "city", "region", "postal_code", "country", "owner", "source", "external_id", "notes"]
STAGE = "crm_import_stage"
DEDUPE_LABEL = {"email": "e-mail", "phone": "phone", "external_id": "external id"}


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


# --- reading -------------------------------------------------------------------------------------
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


def count_rows(chunks: Iterable[bytes], encoding: str, delimiter: str) -> int:
    text = open_text(chunks, encoding)
    try:
        return max(0, sum(1 for row in csv.reader(text, dialect=make_dialect(delimiter)) if row) - 1)
    except (UnicodeDecodeError, csv.Error):
        return 0  # the real pass reports the problem with its position


# --- the run -------------------------------------------------------------------------------------
class ImportRun:
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
        text = open_text(self.chunks(), self.info.encoding)
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

    def _decode_error(self, exc: UnicodeDecodeError) -> ImportFileError:
        return ImportFileError(
            f"The file is not valid {self.info.encoding} (byte {exc.object[exc.start:exc.start + 1]!r} "
            "cannot be decoded). Save it as UTF-8, or give the encoding (e.g. latin-1, cp1252).")

    # --- the pipelined job: parse in a thread, write batch by batch ------------------------------
    def _run_pipelined(self, compiler: RowCompiler, custom_defs, headers) -> Outcome:
        """commit_valid jobs: a parser thread turns the file into batches while this thread, on
        the job's connection, stages, checks and writes each batch in its own transaction. The
        connection waits on PostgreSQL with the GIL released, so parsing (Python) and writing
        (the server) run on two cores at once. In-file duplicates across batches are found in
        ``crm_import_seen`` (dedupe keys already imported by this job)."""
        out = self.outcome
        self._pipelining = True
        spool = tempfile.TemporaryFile()  # the parser thread must not touch the database
        for chunk in self.chunks():
            spool.write(chunk)
        spool.seek(0)
        key = DEDUPE_KEY.get(self.options.dedupe_on)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS crm_import_seen")
            if key:
                cursor.execute("CREATE TEMP TABLE crm_import_seen (k text PRIMARY KEY, row_no int)")
        # Each batch is its own transaction: a stage that empties itself at commit costs less than a
        # TRUNCATE per batch. Inside an outer transaction (tests) batches are savepoints, so TRUNCATE.
        truncate = connection.in_atomic_block
        if not truncate:
            self._create_stage(on_commit_delete=True)
        batches: queue.Queue = queue.Queue(maxsize=2)
        stop = threading.Event()

        def parse() -> None:
            try:
                text = io.TextIOWrapper(spool, encoding=self.info.encoding, errors=decode_errors(self.info.encoding),
                                        newline="")
                reader = csv.reader(text, dialect=make_dialect(out.delimiter))
                read_header(reader)
                batch, issues, row_no, last_line, blank = [], [], 0, reader.line_num, 0
                process = compiler.process
                for cells in reader:
                    line = last_line + 1
                    last_line = reader.line_num
                    row_no += 1
                    if not cells or not any(cells):
                        blank += 1
                        continue
                    values, messages = process(cells, row_no, line)
                    if values is None:
                        issues.append((row_no, line, messages))
                    else:
                        batch.append(values)
                    if len(batch) >= PIPELINE_BATCH_ROWS or len(issues) >= PIPELINE_BATCH_ROWS:
                        batches.put(("batch", batch, issues, row_no))
                        batch, issues = [], []
                        if stop.is_set():
                            return
                batches.put(("batch", batch, issues, row_no))
                batches.put(("end", row_no, blank))
            except UnicodeDecodeError as exc:
                batches.put(("error", self._decode_error(exc)))
            except csv.Error as exc:
                batches.put(("error", ImportFileError(f"The CSV cannot be read near line {last_line}: {exc}.")))
            except BaseException as exc:  # surfaced in the writing thread
                batches.put(("error", exc))

        upsert = self.upsert_applies(custom_defs)
        thread = threading.Thread(target=parse, name="crm-import-parse", daemon=True)
        started = time.perf_counter()
        thread.start()
        waited = 0.0
        try:
            while True:
                before = time.perf_counter()
                item = batches.get()
                waited += time.perf_counter() - before
                if item[0] == "error":
                    raise item[1]
                if item[0] == "end":
                    out.rows, out.skipped = item[1], out.skipped + item[2]
                    break
                _, batch, issues, row_no = item
                for issue_row, line, messages in issues:
                    self.sink.add(issue_row, line, "error", messages)
                self.sink.flush()
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        # A batch need not wait for its WAL flush: the job's final commit is
                        # synchronous and flushes every earlier batch with it; a crash before
                        # that leaves a failed job whose written batches undo can remove.
                        cursor.execute("SET LOCAL synchronous_commit = off")
                        if truncate:
                            cursor.execute(f"TRUNCATE {STAGE}")
                    if batch:
                        self._resolve_accounts(batch)
                        self._copy(batch)
                        if upsert:
                            self._analyse(custom_defs, seen=bool(key), match=False)
                            self._write_upsert()
                        else:
                            to_create, _ = self._analyse(custom_defs, seen=bool(key))
                            self._write(to_create)
                        if key:
                            with connection.cursor() as cursor:
                                # Imported rows' keys are unique in the batch (duplicates were skipped).
                                cursor.execute(f"""INSERT INTO crm_import_seen (k, row_no)
                                                   SELECT {key}, row_no FROM {STAGE}
                                                   WHERE level IS NULL AND {key} IS NOT NULL
                                                   ON CONFLICT DO NOTHING""")
                if self.progress:
                    self.progress(row_no)
        finally:
            stop.set()
            while thread.is_alive():  # unblock a parser waiting on a full queue
                try:
                    batches.get(timeout=0.1)
                except queue.Empty:
                    pass
            spool.close()
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS crm_import_seen")
        out.timings["pipeline"] = time.perf_counter() - started
        out.timings["waiting_for_parser"] = waited
        out.errors = self.sink.errors
        out.skipped += self.sink.skipped
        out.committed = True
        if self.on_written:
            with transaction.atomic():
                self.on_written(out)
        out.errors_by_column = dict(sorted(self.sink.by_column.items(), key=lambda kv: -kv[1]))
        out.issues = self.sink.kept
        return out

    # --- stage ---------------------------------------------------------------------------------
    def _create_stage(self, on_commit_delete: bool = False) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in STAGE_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"CREATE TEMP TABLE {STAGE} ({columns}, match_id bigint, level text, code text, "
                           f"issue text){' ON COMMIT DELETE ROWS' if on_commit_delete else ''}")
            # Company name (lower-cased) -> account id, filled as batches meet new names.
            cursor.execute("DROP TABLE IF EXISTS crm_import_accounts")
            cursor.execute("CREATE TEMP TABLE crm_import_accounts (lname text PRIMARY KEY, id bigint)")

    def _copy(self, batch: list[list]) -> None:
        names = ", ".join(name for name, _ in STAGE_COLUMNS)
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY {STAGE} ({names}) FROM STDIN") as copy:
                for values in batch:
                    copy.write_row(values)

    def _load(self, reader, compiler: RowCompiler, text) -> None:
        out = self.outcome
        batch: list[list] = []
        sink = self.sink
        sample = self.sample_rows
        process = compiler.process
        row_no = 0
        last_line = reader.line_num
        last_progress = time.monotonic()
        for cells in reader:
            line = last_line + 1
            last_line = reader.line_num
            row_no += 1
            if not cells or not any(cells):
                out.skipped += 1  # blank line
                continue
            values, messages = process(cells, row_no, line)
            if values is None:
                sink.add(row_no, line, "error", messages)
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

    # --- analysis (SQL over the stage) -----------------------------------------------------------
    def upsert_applies(self, custom_defs) -> bool:
        """The common case (match on e-mail, update on a match) can be one INSERT ... ON CONFLICT
        per batch instead of match + UPDATE + INSERT, when nothing else needs the matches:
        no other unique column mapped (their clash check compares with the match), no required
        custom field (checked on new rows only), and no boolean column (an empty cell must not
        overwrite, which the upsert's EXCLUDED row cannot tell)."""
        o = self.options
        return (o.dedupe_on == "email" and o.on_match == "update" and "email" in self.mapped
                and "external_id" not in self.mapped and "shared_in_directory" not in self.mapped
                and not any(d.required or (d.unique and f"cf:{d.name}" in self.mapped) for d in custom_defs))

    def _analyse(self, custom_defs, seen: bool = False, match: bool = True) -> tuple[int, int]:
        """Mark the stage's rows (skipped/error) and find their matches; returns (to create, to update).
        ``match=False`` (the upsert path) leaves matching to the INSERT ... ON CONFLICT."""
        opts, out = self.options, self.outcome
        key = DEDUPE_KEY.get(opts.dedupe_on)
        mapped = self.mapped
        if key and not (mapped & ({"phone", "mobile", "work_phone"} if key == "phone_key" else {key})):
            key = None  # the file has no column for the dedupe key: every row is new
        with connection.cursor() as cursor:
            # Hash joins and aggregates over the stage stay in memory (reset in drop_stage).
            cursor.execute("SET work_mem = '64MB'")
            # No ANALYZE: the planner sizes a never-analysed table from its pages, which is enough
            # to pick hash joins here, and ANALYZE of a large stage costs more than it saves.
            # 1. the same dedupe key twice in the file: the first row wins, the others are skipped.
            if key:
                cursor.execute(f"""
                    UPDATE {STAGE} t SET level = 'skipped', code = 'duplicate_in_file',
                           issue = format('Same {DEDUPE_LABEL[opts.dedupe_on]} as row %s; only the first is imported.', d.first_row)
                    FROM (SELECT {key} AS k, min(row_no) AS first_row FROM {STAGE}
                          WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1) d
                    WHERE t.{key} = d.k AND t.row_no <> d.first_row""")
            if seen and key:  # ... or already imported from an earlier batch of this file
                cursor.execute(f"""
                    UPDATE {STAGE} t SET level = 'skipped', code = 'duplicate_in_file',
                           issue = format('Same {DEDUPE_LABEL[opts.dedupe_on]} as row %s; only the first is imported.', s.row_no)
                    FROM crm_import_seen s WHERE s.k = t.{key} AND t.level IS NULL""")
            # 2. other unique values twice in the file: an error (which one is right?).
            # (Only for columns the file maps; the dedupe key's own clashes are its matches.)
            uniques = [(f"s.{n}", f"c.{n}", label, n) for n, label in (("email", "e-mail"),
                                                                         ("external_id", "external id"))
                       if n in mapped and n != key]
            uniques += [(f"(s.custom->'{n}')", f"(c.custom->'{n}')", n, None) for n in _unique_custom(custom_defs)
                        if f"cf:{n}" in mapped]
            for s_expr, _, label, name in uniques:
                cursor.execute(f"""
                    UPDATE {STAGE} t SET level = 'error', code = 'duplicate_in_file',
                           issue = format('Same {label} as row %s.', d.first_row)
                    FROM (SELECT {s_expr} AS k, min(s.row_no) AS first_row FROM {STAGE} s
                          WHERE {s_expr} IS NOT NULL AND s.level IS NULL GROUP BY 1 HAVING count(*) > 1) d
                    WHERE {s_expr.replace('s.', 't.')} = d.k AND t.row_no <> d.first_row AND t.level IS NULL""")
            # 3. matches with existing contacts.
            if not match:
                key = None
            if opts.dedupe_on == "phone" and key:
                cursor.execute(f"""
                    UPDATE {STAGE} s SET match_id = m.id FROM (
                        SELECT x.row_no, min(x.id) AS id FROM (
                            SELECT s2.row_no, c.id FROM {STAGE} s2 JOIN crm_contact c ON c.phone = s2.phone_key
                            UNION ALL SELECT s2.row_no, c.id FROM {STAGE} s2 JOIN crm_contact c ON c.mobile = s2.phone_key
                            UNION ALL SELECT s2.row_no, c.id FROM {STAGE} s2 JOIN crm_contact c ON c.work_phone = s2.phone_key
                        ) x GROUP BY x.row_no) m
                    WHERE m.row_no = s.row_no AND s.level IS NULL""")
            elif key:
                cursor.execute(f"""UPDATE {STAGE} s SET match_id = c.id FROM crm_contact c
                                   WHERE c.{key} = s.{key} AND s.{key} IS NOT NULL AND s.level IS NULL""")
            if key and opts.on_match == "skip":
                cursor.execute(f"""UPDATE {STAGE} SET level = 'skipped', code = 'exists',
                                       issue = format('Matches existing contact %s (same {DEDUPE_LABEL[opts.dedupe_on]}); skipped.', match_id)
                                   WHERE match_id IS NOT NULL AND level IS NULL""")
            if opts.on_match == "create":
                cursor.execute(f"UPDATE {STAGE} SET match_id = NULL WHERE match_id IS NOT NULL")
            # 4. unique values that belong to another existing contact.
            for s_expr, c_expr, label, _ in uniques:
                cursor.execute(f"""
                    UPDATE {STAGE} s SET level = 'error', code = 'duplicate',
                           issue = format('The {label} %s already belongs to contact %s.', {s_expr}, c.id)
                    FROM crm_contact c
                    WHERE {s_expr} IS NOT NULL AND {c_expr} = {s_expr}
                      AND c.id IS DISTINCT FROM s.match_id AND s.level IS NULL""")
            # 5. required custom fields of contacts the import creates.
            for d in custom_defs:
                if d.required:
                    cursor.execute(f"""UPDATE {STAGE} SET level = 'error', code = 'required',
                                           issue = %s
                                       WHERE match_id IS NULL AND level IS NULL
                                         AND NOT (coalesce(custom, '{{}}'::jsonb) ? %s)""",
                                   [f"{d.label} is required for a new contact.", d.name])
            cursor.execute(f"""SELECT count(*) FILTER (WHERE level IS NULL AND match_id IS NULL),
                                      count(*) FILTER (WHERE level IS NULL AND match_id IS NOT NULL),
                                      count(*) FILTER (WHERE level = 'skipped'),
                                      count(*) FILTER (WHERE level = 'error') FROM {STAGE}""")
            to_create, to_update, skipped, errors = cursor.fetchone()
            out.to_create += to_create
            out.to_update += to_update
            out.skipped += skipped
            self.sink.errors += errors
            self._collect_stage_issues(cursor, skipped + errors)
        return to_create, to_update

    def _collect_stage_issues(self, cursor, count: int) -> None:
        if not count:
            return
        self.sink.by_column["(row)"] = self.sink.by_column.get("(row)", 0) + count
        if self.sink.job_id is not None:
            cursor.execute(f"""
                INSERT INTO crm_importrowissue (job_id, row, line, level, messages)
                SELECT %s, row_no, line_no, level,
                       jsonb_build_array(jsonb_build_object('column', '', 'field', '', 'code', code, 'message', issue))
                FROM {STAGE} WHERE level IS NOT NULL""", [self.sink.job_id])
            return
        cursor.execute(f"SELECT row_no, line_no, level, code, issue FROM {STAGE} WHERE level IS NOT NULL "
                       f"ORDER BY row_no LIMIT %s", [max(0, self.sink.keep - len(self.sink.kept))])
        for row_no, line_no, level, code, issue in cursor.fetchall():
            self.sink.kept.append({"row": row_no, "line": line_no, "level": level,
                                   "messages": [{"column": "", "field": "", "code": code, "message": issue}]})
        self.sink.kept.sort(key=lambda i: i["row"])

    # --- write ---------------------------------------------------------------------------------
    def _write_upsert(self) -> None:
        """Match on e-mail and update, in one statement: ``ON CONFLICT (email) WHERE email <> ''``
        (the predicate of the partial unique index must be repeated for PostgreSQL to use it)."""
        out, job = self.outcome, self.job_id
        texts = [c for c in CONTACT_TEXTS if c != "email"]
        keep = ", ".join(f"{c} = CASE WHEN EXCLUDED.{c} = '' THEN crm_contact.{c} ELSE EXCLUDED.{c} END"
                         for c in texts)
        values = ", ".join(f"coalesce(s.{c}, '')" for c in CONTACT_TEXTS)
        with connection.cursor() as cursor:
            cursor.execute(f"""
                WITH written AS (
                    INSERT INTO crm_contact ({', '.join(CONTACT_TEXTS)}, account_id, shared_in_directory, tags,
                                             custom, created_at, updated_at, created_by_import_id)
                    SELECT {values}, s.account_id, false, coalesce(s.tags, '{{}}'),
                           coalesce(s.custom, '{{}}'::jsonb), now(), now(), %s
                    FROM {STAGE} s
                    WHERE s.level IS NULL
                    ON CONFLICT (email) WHERE email <> '' DO UPDATE SET {keep},
                        account_id = coalesce(EXCLUDED.account_id, crm_contact.account_id),
                        tags = CASE WHEN EXCLUDED.tags = '{{}}' THEN crm_contact.tags
                                    ELSE ARRAY(SELECT DISTINCT t FROM unnest(crm_contact.tags || EXCLUDED.tags) t) END,
                        custom = crm_contact.custom || EXCLUDED.custom,
                        updated_at = now()
                    RETURNING (xmax = 0) AS inserted)
                SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written""", [job])
            created, updated = cursor.fetchone()
        out.created += created
        out.updated += updated
        out.to_create += created
        out.to_update += updated

    def _resolve_accounts(self, batch: list[list]) -> None:
        """Pipelined jobs: company name -> account id in Python, cached for the whole file, so a
        batch whose companies were all seen before costs no SQL. New names become accounts now
        (an account whose rows then fail stays; undo removes it with the import)."""
        if "account" not in self.mapped:
            return
        from apps.crm.importer.rows import SLOT

        name_slot, id_slot = SLOT["account_name"], SLOT["account_id"]
        cache = self._account_ids
        missing: dict[str, str] = {}
        for values in batch:
            name = values[name_slot]
            if name and name.lower() not in cache:
                missing.setdefault(name.lower(), name)
        if missing:
            with connection.cursor() as cursor:
                cursor.execute("SELECT id, name FROM crm_account WHERE lower(name) = ANY(%s) ORDER BY id",
                               [list(missing)])
                for account_id, name in cursor.fetchall():
                    cache.setdefault(name.lower(), account_id)
                new = [name for lname, name in missing.items() if lname not in cache]
                if new:
                    cursor.execute("""
                        INSERT INTO crm_account (name, website, industry, phone, email, street, city, region,
                                                 postal_code, country, owner, tags, external_id, notes, custom,
                                                 created_at, updated_at, created_by_import_id)
                        SELECT n, '', '', '', '', '', '', '', '', '', '', '{}', '', '', '{}', now(), now(), %s
                        FROM unnest(%s::text[]) AS n
                        RETURNING id, name""", [self.job_id, new])
                    for account_id, name in cursor.fetchall():
                        cache.setdefault(name.lower(), account_id)
                    self.outcome.accounts_created += len(new)
        for values in batch:
            name = values[name_slot]
            if name:
                values[id_slot] = cache.get(name.lower())

    def _accounts(self) -> None:
        out, job = self.outcome, self.job_id
        with connection.cursor() as cursor:
            if "account" in self.mapped:
                cursor.execute(f"""
                    INSERT INTO crm_account (name, website, industry, phone, email, street, city, region, postal_code,
                                             country, owner, tags, external_id, notes, custom, created_at, updated_at,
                                             created_by_import_id)
                    SELECT DISTINCT ON (lower(s.account_name)) s.account_name, '', '', '', '', '', '', '', '', '', '',
                           '{{}}', '', '', '{{}}', now(), now(), %s
                    FROM {STAGE} s
                    WHERE s.account_name IS NOT NULL AND s.level IS NULL
                      AND NOT EXISTS (SELECT 1 FROM crm_import_accounts k WHERE k.lname = lower(s.account_name))
                      AND NOT EXISTS (SELECT 1 FROM crm_account a WHERE lower(a.name) = lower(s.account_name))
                    ORDER BY lower(s.account_name), s.row_no""", [job])
                out.accounts_created += cursor.rowcount
                # Each company name -> the oldest account of that name, remembered for later batches.
                cursor.execute(f"""
                    INSERT INTO crm_import_accounts (lname, id)
                    SELECT DISTINCT ON (lower(a.name)) lower(a.name), a.id FROM crm_account a
                    WHERE lower(a.name) IN (SELECT lower(s.account_name) FROM {STAGE} s
                                            WHERE s.account_name IS NOT NULL AND s.level IS NULL
                                              AND NOT EXISTS (SELECT 1 FROM crm_import_accounts k
                                                              WHERE k.lname = lower(s.account_name)))
                    ORDER BY lower(a.name), a.id
                    ON CONFLICT DO NOTHING""")

    def _write(self, to_create: int) -> None:
        """Accounts, updates and inserts for the staged rows without issues (caller's transaction)."""
        out, job = self.outcome, self.job_id
        if not self._pipelining:  # pipelined batches come with account ids (_resolve_accounts)
            self._accounts()
        accounts = "crm_import_accounts"
        with connection.cursor() as cursor:
            texts = CONTACT_TEXTS
            if self.options.on_match == "update":
                sets = ", ".join(f"{c} = coalesce(s.{c}, c.{c})" for c in texts)
                cursor.execute(f"""
                    UPDATE crm_contact c SET {sets},
                        account_id = coalesce(s.account_id, a.id, c.account_id),
                        shared_in_directory = coalesce(s.shared_in_directory, c.shared_in_directory),
                        tags = CASE WHEN s.tags IS NULL THEN c.tags
                                    ELSE ARRAY(SELECT DISTINCT t FROM unnest(c.tags || s.tags) t) END,
                        custom = c.custom || coalesce(s.custom, '{{}}'::jsonb),
                        updated_at = now()
                    FROM {STAGE} s LEFT JOIN {accounts} a ON a.lname = lower(s.account_name)
                    WHERE s.match_id = c.id AND s.level IS NULL""")
                out.updated += cursor.rowcount
            values = ", ".join(f"coalesce(s.{c}, '')" for c in texts)
            cursor.execute(f"""
                INSERT INTO crm_contact ({', '.join(texts)}, account_id, shared_in_directory, tags, custom,
                                         created_at, updated_at, created_by_import_id)
                SELECT {values}, coalesce(s.account_id, a.id), coalesce(s.shared_in_directory, false), coalesce(s.tags, '{{}}'),
                       coalesce(s.custom, '{{}}'::jsonb), now(), now(), %s
                FROM {STAGE} s LEFT JOIN {accounts} a ON a.lname = lower(s.account_name)
                WHERE s.level IS NULL AND s.match_id IS NULL
                ON CONFLICT DO NOTHING""", [job])  # the stage is in file order: no ORDER BY (a sort)
            out.created += cursor.rowcount
            # Rows another writer beat us to between the analysis and the insert.
            out.skipped += max(0, to_create - cursor.rowcount)

    def drop_stage(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute("DROP TABLE IF EXISTS crm_import_accounts")
            cursor.execute("RESET work_mem")


def _unique_custom(custom_defs) -> list[str]:
    return [d.name for d in custom_defs if d.unique]


def neutralise(value: str) -> str:
    """A cell safe to open in a spreadsheet: formulas get a leading apostrophe (OWASP CSV injection)."""
    if value and value[0] in "=+-@\t\r" and looks_like_formula(value):
        return "'" + value
    return value
