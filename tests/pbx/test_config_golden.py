"""Golden files: the demo tenants' rendered configuration, pinned byte for byte.

A change in rendering shows up here as a diff to review. After an intended change, regenerate:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/pbx/test_config_golden.py
"""
import difflib
import os
from pathlib import Path

import pytest

from apps.pbx.render import FILES, render_server
from apps.pbx.render.confcheck import validate
from tests.pbx.golden.demo import build_demo

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", FILES)
def test_rendered_file_matches_golden(world, system_actor, name):
    server, _ = build_demo(system_actor, world)
    rendered = render_server(server)
    assert validate(rendered.files) == []
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered.files[name])
    expected = path.read_text()
    if rendered.files[name] != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), rendered.files[name].splitlines(True),
                                            f"golden/{name}", f"rendered {name}"))
        pytest.fail(f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept):\n{diff}")
