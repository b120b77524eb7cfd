"""Import services: start (store + check), run (the worker's part), preview, undo, error CSV.

Limits (settings, with these defaults):
    CRM_IMPORT_MAX_BYTES     50 MiB   larger uploads are refused with 413 payload_too_large
    CRM_IMPORT_INLINE_BYTES  256 KiB  files up to this size import inside the request (201);
                                      larger ones run as a Celery job (202 + status URL)
    CRM_IMPORT_PREVIEW_INLINE_BYTES   previews likewise (200 with the preview, or 202 + a job whose
                             (= the above)  preview is read from GET /api/crm-imports/<t>/<id>/preview)
"""
from __future__ import annotations

import csv
import io
import logging
import uuid
from dataclasses import dataclass
from typing import Iterable, Iterator

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.crm import customfields
from apps.crm.importer import engine
from apps.crm.importer.decoding import FileInfo, ImportFileError, Inspector
from apps.crm.importer.source import iter_stored, iter_upload, store_chunks
from apps.crm.models import Account, Contact, ImportJob, ImportMap
from thirdlane.api.errors import Conflict, DomainError
from thirdlane.context import current_request_id, request_id_var
from thirdlane.csvsafe import neutralise
from thirdlane.services import delete, record_change

logger = logging.getLogger(__name__)


def max_bytes() -> int:
    return getattr(settings, "CRM_IMPORT_MAX_BYTES", 50 * 1024 * 1024)


def inline_bytes() -> int:
    return getattr(settings, "CRM_IMPORT_INLINE_BYTES", 256 * 1024)


def preview_inline_bytes() -> int:
    """Files up to this size are previewed inside the request; larger ones as a job. The same
    threshold as imports by default: 256 KiB is ~2,000 rows, a preview of ~0.1 s."""
    return getattr(settings, "CRM_IMPORT_PREVIEW_INLINE_BYTES", inline_bytes())


@dataclass(frozen=True)
class JobActor:
    """Who started a job, as audit and events need it, rebuilt in the worker."""

    kind: str
    id: int | None
    label: str


def _file_error(exc: ImportFileError) -> DomainError:
    return DomainError(str(exc), code=exc.code, field="file")


def _inspect(chunks: Iterable[bytes], encoding: str, sink=None) -> FileInfo:
    try:
        inspector = Inspector(encoding)
    except ImportFileError as exc:
        raise DomainError(str(exc), code="validation_error", field="encoding") from None
    size_limit = max_bytes()

    def feed() -> Iterator[bytes]:
        for chunk in chunks:
            inspector.feed(chunk)
            if inspector.size > size_limit:
                raise DomainError(f"The file is larger than {size_limit // (1024 * 1024)} MiB. Split it into "
                                  "smaller files.", code="payload_too_large", field="file")
            yield chunk

    if sink is None:
        for _ in feed():
            pass
    else:
        sink(feed())
    try:
        return inspector.finish()
    except ImportFileError as exc:
        raise _file_error(exc) from None


def _options(tenant, *, columns=None, import_map: ImportMap | None = None, dedupe_on=None, on_match=None,
             mode=None, delimiter: str = "") -> engine.Options:
    if columns is None and import_map is not None:
        columns = import_map.columns or None
    return engine.Options(
        columns=columns,
        dedupe_on=dedupe_on or (import_map.dedupe_on if import_map else ImportMap.DedupeOn.EMAIL),
        on_match=on_match or (import_map.on_match if import_map else ImportMap.OnMatch.UPDATE),
        mode=mode or ImportJob.Mode.COMMIT_VALID, delimiter=delimiter or "",
        region=getattr(tenant, "default_region", "") or "US")


def _quick_check(info: FileInfo, options: engine.Options) -> tuple[str, list[str], dict]:
    """Header-level problems answer at once (400), before any job runs."""
    try:
        delimiter = engine.detect_delimiter(info, options.delimiter)
        text = info.sample.decode(info.encoding, errors="replace")
        if len(info.sample) < info.size:
            text = text[:text.rfind("\n") + 1] or text
        reader = csv.reader(io.StringIO(text, newline=""), dialect=engine.make_dialect(delimiter))
        headers = engine.read_header(reader)
        defs = customfields.definitions("contact")
        engine.check_header(headers, defs, explicit_map=options.columns is not None)
        columns, _ = engine.resolve_columns(headers, options.columns, defs)
    except ImportFileError as exc:
        raise _file_error(exc) from None
    except csv.Error as exc:
        raise DomainError(f"The CSV cannot be read: {exc}.", code="import_file_invalid", field="file") from None
    if options.on_match == "create" and options.dedupe_on in ("email", "external_id"):
        raise DomainError(f"Contacts' {options.dedupe_on} is unique: on a match choose update or skip.",
                          code="validation_error", field="on_match")
    return delimiter, headers, columns


def import_upload(*, actor, tenant, upload, file_name: str = "", encoding: str = "", columns=None,
                  import_map: ImportMap | None = None, dedupe_on=None, on_match=None, mode=None,
                  delimiter: str = "", status: str = ImportJob.Status.QUEUED) -> ImportJob:
    """Store the file and create the job (``queued``, or ``draft`` for the admin's map step)."""
    options = _options(tenant, columns=columns, import_map=import_map, dedupe_on=dedupe_on, on_match=on_match,
                       mode=mode, delimiter=delimiter)
    with transaction.atomic():
        job = ImportJob.objects.create(
            status=status, mode=options.mode, import_map=import_map, dedupe_on=options.dedupe_on,
            on_match=options.on_match, file_name=(file_name or getattr(upload, "name", "") or "upload.csv")[:255],
            actor_kind=getattr(actor, "kind", "system"), actor_id=getattr(actor, "id", None),
            actor_label=getattr(actor, "label", "system")[:150], request_id=current_request_id() or "")
        info = _inspect(iter_upload(upload), encoding, sink=lambda chunks: store_chunks(job.pk, chunks))
        job.delimiter, headers, resolved = _quick_check(info, options)
        if info.quotes % 2:  # a quote that never closes is a 400 now, not a job that fails later
            line = engine.unterminated_quote_line(lambda: engine.open_text(iter_stored(job.pk), info.encoding),
                                                  job.delimiter)
            if line is not None:
                raise _file_error(engine.unterminated_quote_error(line))
        job.encoding, job.size_bytes = info.encoding, info.size
        # Progress total until the job has read the file: lines minus the header (an estimate
        # only when quoted cells hold newlines; the job sets the exact count when it finishes).
        job.rows_total = max(0, info.lines - 1)
        job.columns = resolved if options.columns is not None or status != ImportJob.Status.DRAFT else resolved
        job.save()
        record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=job, tenant=tenant, verb="import_started")
    return job


def import_configure(*, actor, tenant, job: ImportJob, columns: dict, dedupe_on: str, on_match: str,
                     mode: str) -> ImportJob:
    """The admin's map step: change a draft job's map and rules."""
    if job.status != ImportJob.Status.DRAFT:
        raise Conflict("Only an import that has not started can be changed.")
    info = FileInfo(job.encoding, job.size_bytes, _stored_sample(job))
    options = engine.Options(columns=columns, dedupe_on=dedupe_on, on_match=on_match, mode=mode,
                             delimiter=job.delimiter, region=tenant.default_region or "US")
    _, _, resolved = _quick_check(info, options)
    job.columns, job.dedupe_on, job.on_match, job.mode = resolved, dedupe_on, on_match, mode
    job.save(update_fields=["columns", "dedupe_on", "on_match", "mode"])
    return job


def job_headers(job: ImportJob) -> list[str]:
    """The file's column names in file order (a job's map is a JSON object: its order is lost)."""
    info = FileInfo(job.encoding, job.size_bytes, _stored_sample(job))
    try:
        return _quick_check(info, engine.Options(columns=job.columns or None, delimiter=job.delimiter))[1]
    except DomainError:
        return list(job.columns)


def _stored_sample(job: ImportJob) -> bytes:
    from apps.crm.importer.decoding import SAMPLE_BYTES

    sample = bytearray()
    for chunk in iter_stored(job.pk):
        sample += chunk
        if len(sample) >= SAMPLE_BYTES:
            break
    return bytes(sample[:SAMPLE_BYTES])


def import_queue(*, actor, tenant, job: ImportJob) -> ImportJob:
    """Hand a stored job to the worker once the surrounding transaction commits."""
    from apps.crm.tasks import run_import

    if job.status not in (ImportJob.Status.DRAFT, ImportJob.Status.QUEUED):
        raise Conflict("This import has already run.")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    job.status = ImportJob.Status.QUEUED
    tenant_id, job_id = tenant.pk, job.pk
    transaction.on_commit(lambda: run_import.delay(tenant_id, job_id))
    return job


def _progress(job_id: int, **fields) -> None:
    ImportJob.objects.filter(pk=job_id).update(**fields)


def import_run(*, tenant, job_id: int) -> ImportJob:
    """Run a queued job in the current (tenant) schema: the body of the Celery task.

    Reading and staging happen outside any transaction (progress is visible to the status
    endpoint as it goes); the writes and the one ``crm.import.completed`` event commit together.
    """
    job = ImportJob.objects.get(pk=job_id)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.DRAFT):
        return job
    token = request_id_var.set(job.request_id or current_request_id())
    run = None
    actor = JobActor(job.actor_kind or "system", job.actor_id, job.actor_label or "system")
    try:
        _progress(job.pk, status=ImportJob.Status.RUNNING, phase="reading", started_at=timezone.now())
        info = FileInfo(job.encoding, job.size_bytes, _stored_sample(job))
        options = engine.Options(columns=job.columns or None, dedupe_on=job.dedupe_on, on_match=job.on_match,
                                 mode=job.mode, delimiter=job.delimiter, region=tenant.default_region or "US")
        def finish(outcome: engine.Outcome) -> None:
            job.refresh_from_db()
            _finish(job, outcome, actor=actor, tenant=tenant)

        run = engine.ImportRun(chunks=lambda: iter_stored(job.pk), info=info, options=options,
                               sink=engine.IssueSink(job.pk), job_id=job.pk, commit=True,
                               progress=lambda done: _progress(job.pk, rows_done=done), on_written=finish)
        try:
            outcome = run.run()
            if not outcome.committed:  # all-or-nothing with errors: the result alone
                with transaction.atomic():
                    finish(outcome)
        finally:
            run.drop_stage()
    except ImportFileError as exc:
        job.refresh_from_db()
        partial = run.outcome if run is not None else None
        with transaction.atomic():
            if partial is not None:  # commit_valid writes batch by batch: say what was written
                job.created_count, job.updated_count = partial.created, partial.updated
                job.error_count = partial.errors or run.sink.errors
            job.status, job.phase, job.error_message = ImportJob.Status.FAILED, "", str(exc)
            job.finished_at = timezone.now()
            job.save()
            _event(job, actor=actor, tenant=tenant)
    except Exception:
        logger.exception("import %s failed", job_id)
        _progress(job_id, status=ImportJob.Status.FAILED, phase="", finished_at=timezone.now(),
                  error_message="Unexpected error while importing; nothing was written. Quote the job id when "
                                "reporting it.")
        raise
    finally:
        request_id_var.reset(token)
    final = ImportJob.objects.get(pk=job_id)
    final.timings = getattr(job, "timings", {})
    return final


def _finish(job: ImportJob, outcome: engine.Outcome, *, actor, tenant) -> None:
    job.rows_total = outcome.rows
    job.rows_done = outcome.rows
    job.created_count, job.updated_count = outcome.created, outcome.updated
    job.skipped_count, job.error_count = outcome.skipped, outcome.errors
    job.finished_at = timezone.now()
    job.phase = ""
    logger.info("import %s: %s rows, timings %s", job.pk, outcome.rows,
                {k: round(v, 3) for k, v in outcome.timings.items()})
    if outcome.committed:
        job.status = ImportJob.Status.COMPLETED
    else:
        job.status = ImportJob.Status.FAILED
        job.error_message = (f"{outcome.errors} row(s) have errors, so nothing was imported (all-or-nothing). "
                             "Download the error file, fix the rows and import again.")
    job.save()
    job.timings = outcome.timings  # for callers that measure (not stored)
    _event(job, actor=actor, tenant=tenant, accounts_created=outcome.accounts_created)


def job_payload(job: ImportJob, tenant) -> dict:
    return {"id": job.pk, "status": job.status, "mode": job.mode, "file_name": job.file_name,
            "rows": job.rows_total or 0, "created": job.created_count, "updated": job.updated_count,
            "skipped": job.skipped_count, "errors": job.error_count,
            "url": f"/api/crm-imports/{tenant.slug}/{job.pk}/"}


def _event(job: ImportJob, *, actor, tenant, **extra) -> None:
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=job, tenant=tenant, verb="import_completed",
                  event_type="crm.import.completed", event_data={**job_payload(job, tenant), **extra})


def import_preview(*, tenant, upload=None, job: ImportJob | None = None, encoding: str = "", columns=None,
                   import_map: ImportMap | None = None, dedupe_on=None, on_match=None, mode=None,
                   delimiter: str = "", sample_rows: int = 20, progress=None) -> dict:
    """What an import of this file would do. Runs the real pipeline and rolls it back: writes nothing.
    ``progress(rows_read)`` is called as the file is read (it must commit elsewhere: everything
    here is rolled back)."""
    if job is not None:
        info = FileInfo(job.encoding, job.size_bytes, _stored_sample(job))
        chunks = lambda: iter_stored(job.pk)  # noqa: E731
        options = engine.Options(columns=columns if columns is not None else (job.columns or None),
                                 dedupe_on=dedupe_on or job.dedupe_on, on_match=on_match or job.on_match,
                                 mode=mode or job.mode, delimiter=job.delimiter,
                                 region=tenant.default_region or "US")
    else:
        info = _inspect(iter_upload(upload), encoding)
        chunks = lambda: iter_upload(upload)  # noqa: E731
        options = _options(tenant, columns=columns, import_map=import_map, dedupe_on=dedupe_on, on_match=on_match,
                           mode=mode, delimiter=delimiter)
    _quick_check(info, options)
    run = engine.ImportRun(chunks=chunks, info=info, options=options, sink=engine.IssueSink(None), commit=False,
                           sample_rows=sample_rows, progress=progress)
    try:
        with transaction.atomic():
            try:
                outcome = run.run()
            finally:
                run.drop_stage()
            transaction.set_rollback(True)
    except ImportFileError as exc:
        raise _file_error(exc) from None
    from apps.crm.importer.rows import STAGE_COLUMNS

    names = [name for name, _ in STAGE_COLUMNS]
    sample = []
    for values in outcome.sample:
        row = {k: v for k, v in zip(names, values) if v is not None and k not in ("row_no", "line_no", "phone_key")}
        if "account_name" in row:
            row["account"] = row.pop("account_name")
        if "custom" in row:
            import json

            row["custom"] = json.loads(row["custom"])
        sample.append({"row": values[0], "values": row})
    return {
        "encoding": outcome.encoding, "delimiter": {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
            outcome.delimiter, outcome.delimiter),
        "columns": outcome.headers, "mapping": outcome.columns, "ignored_columns": outcome.ignored_columns,
        "dedupe_on": options.dedupe_on, "on_match": options.on_match, "mode": options.mode,
        "rows": outcome.rows,
        "summary": {"create": outcome.to_create, "update": outcome.to_update if options.on_match == "update" else 0,
                    "skip": outcome.skipped, "error": outcome.errors},
        "errors_by_column": outcome.errors_by_column, "issues": outcome.issues, "sample": sample,
    }


# --- previews of big files: a job ------------------------------------------------------------------
def import_preview_queue(*, tenant, job: ImportJob) -> ImportJob:
    """Preview a stored job's file in the worker (after the surrounding transaction commits). A new
    request supersedes a running one: only the latest token may store its result."""
    from apps.crm.tasks import run_preview

    if job.status not in (ImportJob.Status.DRAFT, ImportJob.Status.QUEUED):
        raise Conflict("This import has already run.")
    token = uuid.uuid4().hex
    ImportJob.objects.filter(pk=job.pk).update(preview_status=ImportJob.PreviewStatus.QUEUED, preview_rows_done=0,
                                               preview=None, preview_token=token)
    job.preview_status, job.preview_rows_done, job.preview, job.preview_token = (
        ImportJob.PreviewStatus.QUEUED, 0, None, token)
    tenant_id, job_id = tenant.pk, job.pk
    transaction.on_commit(lambda: run_preview.delay(tenant_id, job_id, token))
    return job


class _ProgressWriter:
    """Writes a preview's progress on a connection of its own: the preview itself runs in a
    transaction that is rolled back, and its progress must be visible while it runs."""

    def __init__(self, tenant, job_id: int, token: str):
        from django.db import connections

        self.job_id, self.token = job_id, token
        self.connection = connections.create_connection("default")
        self.connection.set_tenant(tenant)
        self.last = 0.0

    def __call__(self, rows_done: int, **fields) -> None:
        assignments = ", ".join(f"{name} = %s" for name in ["preview_rows_done", *fields])
        with self.connection.cursor() as cursor:
            cursor.execute(f"UPDATE crm_importjob SET {assignments} WHERE id = %s AND preview_token = %s",
                           [rows_done, *fields.values(), self.job_id, self.token])

    def close(self) -> None:
        self.connection.close()


def import_preview_run(*, tenant, job_id: int, token: str) -> ImportJob | None:
    """The body of ``crm.run_preview``: compute the preview of a stored file, with progress."""
    job = ImportJob.objects.filter(pk=job_id, preview_token=token).first()
    if job is None or job.preview_status not in (ImportJob.PreviewStatus.QUEUED, ImportJob.PreviewStatus.RUNNING):
        return job  # superseded by a newer request, or already done
    mine = ImportJob.objects.filter(pk=job_id, preview_token=token)
    mine.update(preview_status=ImportJob.PreviewStatus.RUNNING)
    writer = _ProgressWriter(tenant, job_id, token)
    try:
        result = import_preview(tenant=tenant, job=job, progress=writer)
    except DomainError as exc:
        mine.update(preview_status=ImportJob.PreviewStatus.FAILED,
                    preview={"error": {"code": exc.code, "detail": exc.detail}})
    except Exception:
        logger.exception("preview of import %s failed", job_id)
        mine.update(preview_status=ImportJob.PreviewStatus.FAILED, preview={"error": {
            "code": "internal_error", "detail": "Unexpected error while previewing; quote the import's id when "
                                              "reporting it."}})
        raise
    else:
        mine.update(preview_status=ImportJob.PreviewStatus.READY, preview=result,
                    preview_rows_done=result["rows"])
    finally:
        writer.close()
    return ImportJob.objects.get(pk=job_id)


# --- undo ----------------------------------------------------------------------------------------
def _delete_with_dependents(model, where: str, params: list) -> int:
    """Delete rows of ``model`` matching ``where`` with set-based SQL, applying each relation's
    on_delete rule (CASCADE, SET_NULL) to the objects that point at them. PROTECT refuses."""
    from django.db import models as m

    table = model._meta.db_table
    ids = f"SELECT id FROM {table} WHERE {where}"
    with connection.cursor() as cursor:
        for rel in model._meta.related_objects:
            if rel.many_to_many or not rel.field.concrete:
                continue
            related_table = rel.related_model._meta.db_table
            column = rel.field.column
            rule = rel.on_delete
            if rule is m.CASCADE:
                cursor.execute(f"DELETE FROM {related_table} WHERE {column} IN ({ids})", params)
            elif rule is m.SET_NULL:
                cursor.execute(f"UPDATE {related_table} SET {column} = NULL WHERE {column} IN ({ids})", params)
            elif rule in (m.PROTECT, m.RESTRICT):
                cursor.execute(f"SELECT 1 FROM {related_table} WHERE {column} IN ({ids}) LIMIT 1", params)
                if cursor.fetchone():
                    raise Conflict(f"Some {model._meta.verbose_name_plural} created by the import are used by "
                                   f"{rel.related_model._meta.verbose_name_plural}.", code="import_not_undoable")
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
        return cursor.rowcount


@transaction.atomic
def import_undo(*, actor, tenant, job: ImportJob) -> ImportJob:
    """Delete the contacts (and the accounts no one else uses) that the import created.

    Contacts the import updated keep their new values: undo removes what the import added.
    """
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportJob.Status.COMPLETED, ImportJob.Status.FAILED) or (
            job.status == ImportJob.Status.FAILED and not job.created_count):
        raise Conflict(f"Only an import that created contacts can be undone (this one is {job.status}).",
                       code="import_not_undoable")
    before = snapshot(job)
    deleted = _delete_with_dependents(Contact, "created_by_import_id = %s", [job.pk])
    accounts = _delete_with_dependents(
        Account, "created_by_import_id = %s AND NOT EXISTS (SELECT 1 FROM crm_contact c WHERE c.account_id = "
                 "crm_account.id)", [job.pk])
    job.status, job.undone_at = ImportJob.Status.UNDONE, timezone.now()
    job.save(update_fields=["status", "undone_at"])
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=job, before=before, tenant=tenant,
                  verb="import_undone", event_type="crm.import.undone",
                  event_data={**job_payload(job, tenant), "deleted": deleted, "accounts_deleted": accounts})
    return job


@transaction.atomic
def import_delete(*, actor, tenant, instance: ImportJob) -> None:
    if instance.status in (ImportJob.Status.RUNNING,):
        raise Conflict("A running import cannot be deleted.", code="import_not_undoable")
    delete(actor=actor, instance=instance, tenant=tenant)


# --- error CSV -----------------------------------------------------------------------------------
def error_rows(job: ImportJob) -> Iterator[str]:
    """The error file: the header, then each refused or skipped row as it was in the file, with
    ``line`` (the line of the file it starts on, the header being line 1), ``level`` and ``errors`` columns. Cells that a spreadsheet would run as formulas are
    neutralised (a leading apostrophe). Streams: memory holds one row and the issue index."""
    from apps.crm.importer.dialect import make_dialect

    issues = {}
    for row, level, messages in job.issues.order_by("row").values_list("row", "level", "messages").iterator(2000):
        issues[row] = (level, "; ".join(
            (f"{m['column']}: " if m.get("column") else "") + m.get("message", "") for m in messages))
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    text = engine.open_text(iter_stored(job.pk), job.encoding)
    reader = csv.reader(text, dialect=make_dialect(job.delimiter or ","))
    try:
        header = engine.read_header(reader)  # skips blank lines before it, as the import did
    except ImportFileError:
        return
    writer.writerow(["line", "level", "errors", *map(neutralise, header)])
    yield flush()
    if not issues:
        return
    last = max(issues)
    try:
        for line, _, cells in engine.records(reader):
            if line in issues:
                level, message = issues[line]
                writer.writerow([line, level, neutralise(message), *map(neutralise, cells)])
                yield flush()
            if line >= last:
                break
    except (UnicodeDecodeError, csv.Error):
        return
