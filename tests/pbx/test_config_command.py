"""manage.py pbx_config and the push retention task."""
import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.pbx.models import ConfigPush
from apps.pbx.render import render_server
from apps.pbx.tasks import prune_pushes
from tests.pbx.golden.demo import build_demo, make_server

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("pbx_config", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_summary_show_and_write(world, system_actor, tmp_path):
    server, _ = build_demo(system_actor, world)
    summary = run(server.name)
    assert "2 tenants, 5 phone endpoints" in summary and render_server(server).checksum[:16] in summary
    shown = run(server.name, "--show", "pjsip.conf")
    assert "[1001-acme](tl-phone)" in shown and "Demo-acme-Sip" not in shown
    assert ("wrote confbridge.conf, extensions.conf, musiconhold.conf, pjsip.conf, queues.conf, res_parking.conf, "
            "voicemail.conf") in run(server.name, "--write", str(tmp_path))
    assert "Demo-acme-Sip" in (tmp_path / "pjsip.conf").read_text()
    assert "nothing (unchanged)" in run(server.name, "--write", str(tmp_path))
    with pytest.raises(CommandError):
        run("no-such-server")


def test_old_finished_pushes_are_pruned_but_the_latest_kept(world):
    server = make_server(name="pbx-prune")
    old = timezone.now() - dt.timedelta(days=200)
    pushes = [ConfigPush.objects.create(server=server, status="succeeded") for _ in range(25)]
    ConfigPush.objects.filter(pk__in=[p.pk for p in pushes]).update(created_at=old)
    ConfigPush.objects.filter(pk=pushes[0].pk).update(status="retrying")  # never pruned while unfinished
    assert prune_pushes() == 4  # 25 - the latest 20 - the unfinished one
    assert ConfigPush.objects.filter(server=server).count() == 21
