"""The pipelined job (commit_valid): parse in a thread, write batch by batch."""
from __future__ import annotations

import csv
import io
import queue
import sys
import tempfile
import threading
import time

from django.db import connection, transaction

from apps.crm.importer.decoding import ImportFileError
from apps.crm.importer.dialect import make_dialect
from apps.crm.importer.reading import (
    decode_errors, read_header, swallowed_issue, swallowed_rows,
)
from apps.crm.importer.rows import SLOT, RowCompiler
from apps.crm.importer.sql import DEDUPE_LABEL, STAGE

PIPELINE_BATCH_ROWS = 10000
# Dedupe keys the parser keeps in memory before it moves them to a temp table (~150 bytes each:
# ~22 MB at most; files of up to ~150,000 distinct contacts never need the table).
PIPELINE_DEDUPE_KEYS = 150_000
# While the parser thread runs, the writing thread gives the GIL back at every round trip to
# PostgreSQL and must take it again to go on. With CPython's default 5 ms switch interval each of
# those takes up to 5 ms (a convoy: ~20 per statement, ~0.1 s per batch, a quarter of the wall
# time); at 0.5 ms the writer gets it back at once. Process-wide, so set only while a job runs
# (imports run one per worker process) and put back after.
PIPELINE_SWITCH_INTERVAL = 0.0005
_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.0


def _short_switch_interval(on: bool) -> None:
    """Jobs running at once in one process (threads) share the setting: the first sets it, the
    last one out puts the process's own value back."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if on:
            if _switch_users == 0:
                _switch_saved = sys.getswitchinterval()
                sys.setswitchinterval(min(_switch_saved, PIPELINE_SWITCH_INTERVAL))
            _switch_users += 1
        else:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


class Pipelined:
    """Mixed into ``ImportRun``."""

    def _run_pipelined(self, compiler: RowCompiler, custom_defs, headers) -> Outcome:
        """commit_valid jobs: a parser thread turns the file into batches while this thread, on
        the job's connection, stages, checks and writes each batch in its own transaction. The
        connection waits on PostgreSQL with the GIL released, so parsing (Python) and writing
        (the server) run on two cores at once."""
        out = self.outcome
        self._pipelining = True
        spool = tempfile.TemporaryFile()  # the parser thread must not touch the database
        quotes = 0
        for chunk in self.chunks():
            spool.write(chunk)
            quotes += chunk.count(b'"')

        def reopen():
            spool.seek(0)
            wrapper = io.TextIOWrapper(spool, encoding=self.info.encoding, errors=decode_errors(self.info.encoding),
                                       newline="")
            try:
                yield from wrapper
            finally:
                wrapper.detach()  # a collected wrapper would close the spool

        if quotes % 2:  # before any batch is written: a quote left open fails the whole file
            try:
                self.check_quotes(reopen)
            except BaseException:
                spool.close()
                raise
        spool.seek(0)
        # In-file duplicates of the dedupe key: the first valid row with a key wins, later ones are
        # skipped naming its line. The parser finds them in a dict of the keys seen so far (no SQL)
        # until it holds PIPELINE_DEDUPE_KEYS keys; then it hands them to the writer, which loads
        # them into ``crm_import_seen``, and from the next batch on the dict holds one batch's keys
        # and the writer checks each batch against the table (``_skip_seen``): memory stays flat.
        key = self.dedupe_key()
        key_slot = SLOT[key] if key else None
        duplicate = f"Same {DEDUPE_LABEL.get(self.options.dedupe_on, '')} as line %s; only the first is imported."
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
                first_lines: dict = {}
                spilled = False  # True once the keys moved to crm_import_seen
                process = compiler.process
                width, delimiter = compiler.width, out.delimiter
                # ``records(reader)`` inlined: the line each record starts and ends on.
                end = reader.line_num
                for cells in reader:
                    if len(batch) + len(issues) >= PIPELINE_BATCH_ROWS:  # a slice of the file
                        check_seen = spilled  # else the dict of every key so far checked the batch
                        if spilled:
                            first_lines = {}
                        elif len(first_lines) >= PIPELINE_DEDUPE_KEYS:
                            batches.put(("seen", first_lines))  # this batch's keys too; the writer's now
                            spilled, first_lines = True, {}
                        batches.put(("batch", batch, issues, row_no, check_seen))
                        batch, issues = [], []
                        if stop.is_set():
                            return
                    line, last_line, end = end + 1, reader.line_num, reader.line_num
                    row_no += 1
                    if not cells or not any(cells):
                        blank += 1
                        continue
                    if last_line != line and (swallowed := swallowed_rows(cells, delimiter, width)):
                        issues.append((line, "error", [swallowed_issue(line, last_line, swallowed)]))
                        continue
                    values, messages = process(cells, line, line)
                    if values is None:
                        issues.append((line, "error", messages))
                        continue
                    if key_slot is not None and (k := values[key_slot]) is not None:
                        first = first_lines.setdefault(k, line)
                        if first != line:
                            issues.append((line, "skipped", [{"column": "", "field": "", "code": "duplicate_in_file",
                                                              "message": duplicate % first}]))
                            continue
                    batch.append(values)
                if batch or issues:
                    batches.put(("batch", batch, issues, row_no, spilled))
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
        waited = 0.0
        _short_switch_interval(True)
        try:
            thread.start()
            while True:
                before = time.perf_counter()
                item = batches.get()
                waited += time.perf_counter() - before
                if item[0] == "error":
                    raise item[1]
                if item[0] == "end":
                    out.rows, out.skipped = item[1], out.skipped + item[2]
                    break
                if item[0] == "seen":
                    with transaction.atomic(), connection.cursor() as cursor:
                        with cursor.copy("COPY crm_import_seen (k, row_no) FROM STDIN") as copy:
                            for pair in item[1].items():
                                copy.write_row(pair)
                    item = None  # the keys now live in the table only
                    continue
                _, batch, issues, row_no, check_seen = item
                for line, level, messages in issues:
                    self.sink.add(line, line, level, messages)
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        # A batch need not wait for its WAL flush: the job's final commit is
                        # synchronous and flushes every earlier batch with it; a crash before
                        # that leaves a failed job whose written batches undo can remove.
                        cursor.execute("SET LOCAL synchronous_commit = off")
                        if truncate:
                            cursor.execute(f"TRUNCATE {STAGE}")
                    self.sink.flush()  # the batch's refused rows, committed with it
                    if batch:
                        self._resolve_accounts(batch)
                        self._copy(batch)
                        if check_seen:
                            self._skip_seen(key)
                        if upsert:
                            self._analyse(custom_defs, in_file_checked=True, match=False)
                            self._write_upsert()
                        else:
                            to_create, _ = self._analyse(custom_defs, in_file_checked=True)
                            self._write(to_create)
                    if self.progress:  # committed with the batch: no WAL flush of its own
                        self.progress(row_no)
        finally:
            stop.set()
            while thread.is_alive():  # unblock a parser waiting on a full queue
                try:
                    batches.get(timeout=0.1)
                except queue.Empty:
                    pass
            _short_switch_interval(False)
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
