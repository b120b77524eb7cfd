"""An operator adds templates (PROVISIONING_TEMPLATE_DIRS) and models (PROVISIONING_EXTRA_MODELS)
without touching the code, and checks them with ``manage.py provisioning_templates --check``."""
from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.provisioning.conftest import create_phone, digest

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(tmp_path):
    from apps.provisioning import catalog, render

    def apply(**settings):
        override = override_settings(PROVISIONING_TEMPLATE_DIRS=[str(tmp_path)], **settings)
        override.enable()
        render.engine.cache_clear()
        catalog._extra_models.cache_clear()
        return override

    overrides = []
    yield lambda **settings: overrides.append(apply(**settings)), tmp_path
    for override in overrides:
        override.disable()
    render.engine.cache_clear()
    catalog._extra_models.cache_clear()


def write(root, name: str, text: str) -> None:
    path = root / "provisioning" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_model_specific_template_and_a_new_model(operator, api, exts, client):
    enable, root = operator
    write(root, "yealink/t58a/mac.cfg", "#!version:1.0.0.1\n{% autoescape off %}## operator's T58A template\n"
                                        "{% for line in lines %}account.{{ line.position }}.user_name = "
                                        "{{ line.username|cfg }}\n{% endfor %}{% endautoescape %}")
    enable(PROVISIONING_EXTRA_MODELS="yealink:T58A:16")
    created = create_phone(api, exts, model="T58A")
    assert created.status_code == 201, created.content
    assert created.json()["vendor"] == "yealink"
    text = digest(client, "/provisioning/001565abcdef.cfg", "001565abcdef", created.json()["new_password"]).content
    assert text.decode() == "#!version:1.0.0.1\n## operator's T58A template\naccount.1.user_name = 1001-acme\n"
    # The other Yealink models keep the shipped template.
    out = io.StringIO()
    call_command("provisioning_templates", "--check", stdout=out)
    rows = out.getvalue().splitlines()
    assert any("T58A" in row and str(root) in row and row.endswith("ok") for row in rows), rows
    assert any("T54W" in row and "apps/provisioning/templates" in row for row in rows)


def test_a_broken_operator_template_fails_the_check(operator):
    enable, root = operator
    write(root, "grandstream/cfg.xml", "<gs_provision version=\"1\"><config version=\"1\"><P47>{{ server.address }}"
                                       "</P48></config></gs_provision>")
    enable()
    err = io.StringIO()
    with pytest.raises(CommandError, match="6 template"):
        call_command("provisioning_templates", "--check", stdout=io.StringIO(), stderr=err)


def test_an_unknown_vendor_in_extra_models_is_refused(operator):
    from apps.provisioning import catalog

    enable, _ = operator
    enable(PROVISIONING_EXTRA_MODELS="nokia:3310:1")
    with pytest.raises(ValueError, match="nokia:3310:1"):
        catalog.models_of("yealink")
