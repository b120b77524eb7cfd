"""Scheduled exports: the exact rows and checksum of known calls, incremental runs with no gap and
no duplicate, failing destinations that leave the cursor alone, a resumed run after a worker died,
and real destinations: a directory, a signed HTTP endpoint, an S3 server (moto) and an SFTP server
(paramiko), all on 127.0.0.1."""
from __future__ import annotations

import csv
import hashlib
import io
import socket
import threading
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.billing.models import Cdr
from apps.events.models import OutboxEvent
from apps.exports import runner, tasks
from apps.exports.models import ExportRun, ExportSchedule
from apps.webhooks.signing import new_secret
from tests.billing.conftest import write

pytestmark = pytest.mark.django_db


@pytest.fixture
def out_dir(tmp_path, settings):
    settings.EXPORT_DIRECTORY_ROOT = str(tmp_path / "out")
    settings.EXPORT_FILES_DIR = str(tmp_path / "runs")
    settings.EXPORT_RETRY_BASE = 0
    return tmp_path / "out"


def create(api, label="reseller", **fields):
    body = {"name": "Nightly CDRs", "dataset": "cdrs", "format": "csv", "cron": "0 2 * * *",
            "timezone": "Europe/Berlin", "destination_type": "directory", "destination": {"path": "billing"},
            **fields}
    response = api(label).post("/api/exports/", body)
    assert response.status_code == 201, response.content
    return ExportSchedule.objects.get(pk=response.json()["id"])


def run_now(api, schedule, label="reseller") -> ExportRun:
    response = api(label).post(f"/api/exports/{schedule.pk}/run/")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    try:
        runner.execute(run_id)
    except runner.RetryLater:
        pass
    return ExportRun.objects.get(pk=run_id)


def expected_csv(world, slugs=("acme",)) -> tuple[str, list[str]]:
    """The file the known calls must make, built from the CDR rows themselves."""
    lines = ["tenant,id,started_at,answered_at,ended_at,duration,billsec,direction,source,destination,did,trunk,"
             "extension,disposition,hangup_cause,hangup_cause_text,account_code,linkedid"]
    for slug in slugs:
        with tenant_context(getattr(world, slug)):
            for c in Cdr.objects.order_by("id"):
                stamp = lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ") if v else ""  # noqa: E731
                lines.append(",".join(str(x) for x in (
                    slug, c.id, stamp(c.started_at), stamp(c.answered_at), stamp(c.ended_at), c.duration, c.billsec,
                    c.direction, c.source, c.destination, c.did, c.trunk, c.extension, c.disposition,
                    "" if c.hangup_cause is None else c.hangup_cause, c.hangup_cause_text, c.account_code,
                    c.linkedid)))
    return "\n".join(lines) + "\n", lines


def test_a_run_exports_the_known_calls_exactly_with_their_checksum(api, billing, world, out_dir):
    write(billing, world)
    schedule = create(api, tenant="acme")
    run = run_now(api, schedule)
    assert run.status == "succeeded", run.error
    text, lines = expected_csv(world)
    delivered = (out_dir / "billing" / run.file_name).read_bytes()
    assert delivered.decode() == text
    assert run.rows == 4 and run.bytes == len(delivered)
    assert run.sha256 == hashlib.sha256(delivered).hexdigest() == hashlib.sha256(text.encode()).hexdigest()
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["destination"] for r in table] == ["+14155550100", "+14155550199", "1002", "+442079460000"]
    download = api("reseller").get(f"/api/export-runs/{run.pk}/download/")
    assert b"".join(download.streaming_content) == delivered
    event = OutboxEvent.objects.get(type="export.completed")
    assert event.data["rows"] == 4 and event.data["sha256"] == run.sha256 and event.reseller_id == schedule.reseller_id
    schedule.refresh_from_db()
    assert schedule.cursors == run.cursor_to and schedule.last_success_at is not None


def test_incremental_runs_have_no_gap_and_no_duplicate_across_tenants(api, billing, world, out_dir):
    write(billing, world)
    write(billing, world, "globex")
    schedule = create(api)  # every tenant of the reseller
    first = run_now(api, schedule)
    write(billing, world, offset=3600, prefix="b")
    second = run_now(api, schedule)
    third = run_now(api, schedule)
    files = [list(csv.DictReader(io.StringIO((out_dir / "billing" / r.file_name).read_text())))
             for r in (first, second, third)]
    assert [len(f) for f in files] == [8, 4, 0]
    assert {r["tenant"] for r in files[0]} == {"acme", "globex"} and {r["tenant"] for r in files[1]} == {"acme"}
    seen = [(r["tenant"], r["id"]) for f in files for r in f]
    assert len(seen) == len(set(seen))
    with tenant_context(world.acme):
        acme_ids = sorted(str(i) for i in Cdr.objects.values_list("id", flat=True))
    assert sorted(i for t, i in seen if t == "acme") == acme_ids


def test_a_failing_destination_is_retried_then_fails_and_the_cursor_stays(api, billing, world, out_dir, settings):
    settings.EXPORT_ALLOW_PRIVATE_TARGETS = True
    write(billing, world)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    schedule = create(api, tenant="acme", destination_type="http", max_attempts=3,
                      destination={"url": f"http://127.0.0.1:{closed_port}/cdrs"})
    response = api("reseller").post(f"/api/exports/{schedule.pk}/run/")
    run_id = response.json()["id"]
    for _ in range(3):
        try:
            runner.execute(run_id)
        except runner.RetryLater:
            continue
    run = ExportRun.objects.get(pk=run_id)
    assert run.status == "failed" and run.attempts == 3 and "connection failed" in run.error
    schedule.refresh_from_db()
    assert schedule.cursors == {}
    failed = OutboxEvent.objects.get(type="export.failed")
    assert failed.data["error"] == run.error
    # fixed: the next run exports everything the failed one did not deliver
    api("reseller").patch(f"/api/exports/{schedule.pk}/", {"destination_type": "directory",
                                                            "destination": {"path": "billing"}})
    again = run_now(api, schedule)
    assert again.status == "succeeded" and again.rows == 4


def test_a_run_a_worker_died_in_is_resumed_with_the_same_rows_and_name(api, billing, world, out_dir):
    write(billing, world)
    schedule = create(api, tenant="acme")
    run = ExportRun.objects.create(schedule=schedule)
    claimed = runner._claim(run.pk)
    runner._plan(claimed, runner.scope_tenants(schedule))  # then the worker was killed
    planned = ExportRun.objects.get(pk=run.pk)
    write(billing, world, offset=3600, prefix="b")  # more calls end meanwhile
    ExportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(runner.RunBusy):
        ExportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
        runner.execute(run.pk)  # a live worker still has it
    ExportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    tasks.run_export(run.pk)
    done = ExportRun.objects.get(pk=run.pk)
    assert done.status == "succeeded" and done.file_name == planned.file_name
    assert done.cursor_to == planned.cursor_to and done.rows == 4 and done.attempts == 2
    nxt = run_now(api, schedule)
    assert nxt.rows == 4  # the calls that ended after the plan, in the next run


def test_dispatch_starts_due_schedules_once_and_moves_next_run(api, billing, world, out_dir):
    schedule = create(api, tenant="acme", cron="*/5 * * * *")
    ExportSchedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert tasks.dispatch() == 1
    assert tasks.dispatch() == 0
    schedule.refresh_from_db()
    assert schedule.next_run_at > timezone.now() and schedule.next_run_at.minute % 5 == 0
    assert schedule.runs.filter(status="queued").count() == 1


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_http_destination_gets_the_file_signed_like_webhooks(api, billing, world, out_dir, settings):
    from standardwebhooks import Webhook

    settings.EXPORT_ALLOW_PRIVATE_TARGETS = True
    write(billing, world)
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        secret = new_secret()
        schedule = create(api, tenant="acme", destination_type="http", format="jsonl", secret=secret,
                          destination={"url": f"http://127.0.0.1:{server.server_port}/cdrs"})
        run = run_now(api, schedule)
    finally:
        server.shutdown()
    assert run.status == "succeeded", run.error
    [(headers, body)] = _Receiver.received
    lowered = {k.lower(): v for k, v in headers.items()}
    sent_at = datetime.fromtimestamp(int(lowered["webhook-timestamp"]), tz=dt_timezone.utc)
    assert lowered["webhook-signature"] == Webhook(secret).sign(lowered["webhook-id"], sent_at, body.decode())
    assert lowered["webhook-id"] == str(run.uid) and lowered["x-export-sha256"] == run.sha256
    assert len(body.decode().splitlines()) == 4 and hashlib.sha256(body).hexdigest() == run.sha256


def test_s3_destination_on_a_real_s3_server(api, billing, world, out_dir, settings):
    import boto3
    from moto.server import ThreadedMotoServer

    settings.EXPORT_ALLOW_PRIVATE_TARGETS = True
    write(billing, world)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDTEST",
                              aws_secret_access_key="test-secret")
        client.create_bucket(Bucket="billing")
        schedule = create(api, tenant="acme", destination_type="s3", secret="test-secret",
                          destination={"bucket": "billing", "prefix": "cdrs/acme", "endpoint_url": endpoint,
                                       "access_key_id": "AKIDTEST"})
        run = run_now(api, schedule)
        assert run.status == "succeeded", run.error
        body = client.get_object(Bucket="billing", Key=f"cdrs/acme/{run.file_name}")["Body"].read()
    finally:
        server.stop()
    assert hashlib.sha256(body).hexdigest() == run.sha256 and body.decode() == expected_csv(world)[0]


def test_sftp_destination_on_a_real_sftp_server(api, billing, world, out_dir, settings, tmp_path):
    from tests.helpers.sftp_server import SftpServer

    settings.EXPORT_ALLOW_PRIVATE_TARGETS = True
    write(billing, world)
    root = tmp_path / "sftp"
    (root / "inbox").mkdir(parents=True)
    with SftpServer(root) as server:
        schedule = create(api, tenant="acme", destination_type="sftp", secret=server.password,
                          destination={"host": "127.0.0.1", "port": server.port, "username": server.username,
                                       "path": "/inbox", "host_key": server.host_key})
        run = run_now(api, schedule)
        assert run.status == "succeeded", run.error
        delivered = (root / "inbox" / run.file_name).read_bytes()
        assert hashlib.sha256(delivered).hexdigest() == run.sha256
        assert not any(p.name.endswith(".part") for p in (root / "inbox").iterdir())
        # a server whose key is not the pinned one is refused, and nothing is sent
        from tests.helpers.sftp_server import SftpServer as Other

        with Other(root) as impostor:
            api("reseller").patch(f"/api/exports/{schedule.pk}/", {"destination": {
                "host": "127.0.0.1", "port": impostor.port, "username": server.username, "path": "/inbox",
                "host_key": server.host_key}})
            refused = run_now(api, schedule)
    assert refused.status == "failed" and "host key" in refused.error


@pytest.mark.parametrize("fields,field", [
    ({"destination_type": "http", "destination": {"url": "http://127.0.0.1:9/x"}}, "destination"),
    ({"destination_type": "http", "destination": {"url": "ftp://example.com/x"}}, "destination.url"),
    ({"destination_type": "directory", "destination": {"path": "../../etc"}}, "destination.path"),
    ({"destination_type": "s3", "destination": {"bucket": "b"}}, "destination.access_key_id"),
    ({"destination_type": "sftp", "destination": {"host": "sftp.example.com", "username": "u", "path": "/x"}},
     "destination.host_key"),
    ({"destination_type": "directory", "destination": {"path": "x", "bogus": 1}}, "destination.bogus"),
    ({"cron": "61 * * * *"}, "cron"),
    ({"cron": "* * *"}, "cron"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"tenant": "initech"}, "tenant"),
])
def test_bad_schedules_are_refused_naming_the_field(api, billing, world, out_dir, fields, field):
    body = {"name": "x", "destination_type": "directory", "destination": {"path": "billing"}, **fields}
    response = api("reseller").post("/api/exports/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert ExportSchedule.objects.count() == 0


def test_exports_are_for_resellers_and_the_system_in_their_scope(api, billing, world, out_dir):
    schedule = create(api, tenant="acme")
    assert api("acme").get("/api/exports/").status_code == 403
    assert api("other_reseller").get(f"/api/exports/{schedule.pk}/").status_code == 404
    assert api("other_reseller").post(f"/api/exports/{schedule.pk}/run/").status_code == 404
    assert api("system").get(f"/api/exports/{schedule.pk}/").status_code == 200
    assert api("reseller").get("/api/exports/").json()[0]["destination"] == {"path": "billing"}
    second = api("reseller").post(f"/api/exports/{schedule.pk}/run/")
    third = api("reseller").post(f"/api/exports/{schedule.pk}/run/")
    assert second.status_code == 202 and third.status_code == 409 and third.json()["code"] == "export_running"


@pytest.mark.parametrize("dataset", ["call_counters", "agent_stats"])
def test_statistics_datasets_export_whole_days_since_the_last_run(api, billing, world, out_dir, dataset):
    write(billing, world)
    schedule = create(api, tenant="acme", dataset=dataset, timezone="UTC")
    ExportSchedule.objects.filter(pk=schedule.pk).update(cursors={"period_end": "2026-11-02T00:00:00+00:00"})
    run = run_now(api, schedule)
    assert run.status == "succeeded", run.error
    table = list(csv.DictReader(io.StringIO((out_dir / "billing" / run.file_name).read_text())))
    assert run.rows == len(table) and all(r["tenant"] == "acme" for r in table)
    if dataset == "call_counters":
        totals = [r for r in table if r["dimension"] == "total" and r["interval_start"].startswith("2026-11-02")]
        assert [int(r["calls"]) for r in totals] == [4], table
    schedule.refresh_from_db()
    assert schedule.cursors["period_end"] == run.period_end.isoformat()
    again = run_now(api, schedule)
    assert again.period_start == run.period_end
