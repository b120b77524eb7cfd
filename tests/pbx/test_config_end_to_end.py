"""End to end with a real Celery worker: POST /apply, the worker renders, writes and reloads
against the replayed Asterisk session, and the push is polled to 100 %."""
import time

import pytest

from apps.pbx.render import FILES
from tests.pbx.golden.demo import build_demo
from tests.pbx.peers import AmiReplayServer
from tests.pbx.test_config_transcripts import sliced

pytestmark = pytest.mark.celery_worker


def test_apply_through_a_real_worker(committed_world, celery_worker, system_actor, tmp_path):
    from tests.conftest import ApiClient

    transcript = sliced("reload", ["reload-pjsip", "cmd-dpreload", "reload-queue", "reload-vm", "reload-moh",
                                   "reload-confbridge", "reload-parking", "queue:qs-1"],
                        derive={"reload-vm": ("reload-queue", {b"app_queue.so": b"app_voicemail.so"}),
                                "reload-moh": ("reload-queue", {b"app_queue.so": b"res_musiconhold.so"}),
                                "reload-confbridge": ("reload-queue", {b"app_queue.so": b"app_confbridge.so"}),
                                "reload-parking": ("reload-queue", {b"app_queue.so": b"res_parking.so"})},
                        rename={b"acme-sales": b"acme-2000"})
    with AmiReplayServer(transcript) as peer:
        server, _ = build_demo(system_actor, committed_world, ami_host=peer.host, ami_port=peer.port,
                               config_dir=str(tmp_path))
        client = ApiClient(committed_world.keys["system"])
        push = client.post(f"/api/servers/{server.pk}/apply").json()
        deadline, body = time.monotonic() + 30, push
        while time.monotonic() < deadline and body["status"] not in ("succeeded", "failed"):
            time.sleep(0.1)
            body = client.get(f"/api/servers/{server.pk}/pushes/{push['id']}/").json()
        peer.wait_idle()
        assert body["status"] == "succeeded", (body, celery_worker.log()[-3000:])
        assert peer.errors == [] and peer.finished
    assert body["progress"] == 100 and body["files_changed"] == sorted(FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
