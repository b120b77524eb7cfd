"""Rendering a server's configuration from the database."""
import pytest

from apps.pbx.render import render_server
from apps.pbx.render.confcheck import validate
from tests.pbx.golden.demo import build_demo

pytestmark = pytest.mark.django_db


def test_demo_renders_valid_configuration(world, system_actor):
    server, _ = build_demo(system_actor, world)
    rendered = render_server(server)
    import os
    if os.environ.get("DUMP"):
        for name, text in rendered.files.items():
            open(f"/tmp/cfg/{name}", "w").write(text)
    assert validate(rendered.files) == []
