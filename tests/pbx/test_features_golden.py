"""Golden files of the PBX features (issue 12): the features demo's rendered configuration, pinned
byte for byte and accepted by the config checker. Regenerate after an intended change:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/pbx/test_features_golden.py
"""
import difflib
import os
from pathlib import Path

import pytest

from apps.pbx.render import render_server
from apps.pbx.render.confcheck import validate
from tests.pbx.golden.features_demo import AGI_URL, build_features

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden" / "features"
NAMES = ("extensions.conf", "pjsip.conf", "confbridge.conf", "res_parking.conf")


@pytest.mark.parametrize("name", NAMES)
def test_features_render_matches_golden(world, system_actor, settings, name):
    settings.PBX_AGI_URL = AGI_URL
    server, _ = build_features(system_actor, world)
    rendered = render_server(server)
    assert validate(rendered.files) == []
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(rendered.files[name])
    expected = path.read_text()
    if rendered.files[name] != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), rendered.files[name].splitlines(True),
                                            f"golden/features/{name}", f"rendered {name}"))
        pytest.fail(f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept):\n{diff}")
