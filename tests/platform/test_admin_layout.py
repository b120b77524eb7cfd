"""In a real browser at 1400 px: no admin changelist (every registered model, platform admin and
tenant admin, as a system admin and as a reseller admin) is wider than the page, and each one
shows rows. The data is the demo's (`seed_demo`) plus a row for the lists the demo leaves empty."""
import io
import re

import pytest

from tests.platform.test_browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.browser]

PASSWORD = "demo-layout-pw-1"
VIEWPORT = {"width": 1400, "height": 900}
MEASURE = """() => {
  const s = document.scrollingElement;
  const wide = [];
  for (const t of document.querySelectorAll('#content table')) {
    const box = t.parentElement;
    if (t.getBoundingClientRect().width > box.clientWidth + 1) wide.push(t.id || t.className || box.id);
  }
  const results = document.querySelector('#result_list');
  return {scrollWidth: s.scrollWidth, clientWidth: s.clientWidth, wideTables: wide,
          rows: results ? results.querySelectorAll('tbody tr').length : null,
          styled: getComputedStyle(document.querySelector('#changelist-form .results') || document.body)
                    .overflowX};
}"""


@pytest.fixture
def demo(transactional_db, monkeypatch, system_actor):
    """The demo, committed, and one row in each list the demo leaves empty (made here directly:
    deliveries, attempts and pushes are written by workers, not by a demo)."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.crm.models import ImportJob
    from apps.pbx.models import ConfigPush, Server
    from apps.tenants import schemas
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_delete
    from apps.webhooks.models import Attempt, Delivery, Subscription
    from tests.conftest import POOL_FOR_TESTS

    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", stdout=io.StringIO())
    Group.objects.create(name="Night shift operators")
    ConfigPush.objects.create(server=Server.objects.get(), status="succeeded", progress=100,
                              files_changed=["pjsip.conf", "extensions.conf"], requested_by="seed")
    subscription = Subscription.objects.get()
    delivery = Delivery.objects.create(subscription=subscription, event_type="crm.contact.created",
                                       message_id="msg_2f1c0b7e9d4a4f0e8a1b", status="failed", attempt_count=1)
    Attempt.objects.create(delivery=delivery, attempted_at=timezone.now(), succeeded=False, status_code=503,
                           duration_ms=812, error="Service Unavailable: the receiver answered 503 for this attempt")
    with tenant_context(Tenant.objects.get(slug="acme")):
        ImportJob.objects.create(file_name="trade-show-leads-2026-spring-export-final.csv", status="completed",
                                 rows_total=120, rows_done=120, created_count=118, skipped_count=2,
                                 actor_label="reseller")
    yield
    for tenant in Tenant.objects.all():
        tenant_delete(actor=system_actor, tenant=tenant)
    schemas.fill_pool(POOL_FOR_TESTS)


@pytest.fixture
def browser(demo):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def changelists(page, base: str) -> list[str]:
    """Every changelist the index of this admin site links to (every model the user may see)."""
    hrefs = page.eval_on_selector_all("#content-main a", "els => els.map(e => e.getAttribute('href'))")
    return sorted({h for h in hrefs if h and re.fullmatch(rf"{re.escape(base)}\w+/\w+/", h)})


@pytest.mark.parametrize("username, expected_min", [("admin", 30), ("reseller", 25)])
def test_no_changelist_overflows_at_1400_px(browser, live_server, username, expected_min, tmp_path):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#tenant-dashboard")
    pages = ["/admin/", "/t/acme/admin/"]
    urls = []
    for index in pages:
        page.goto(live_server.url + index)
        urls += changelists(page, index)
    assert len(urls) >= expected_min, urls
    problems = []
    for url in pages + urls:
        page.goto(live_server.url + url)
        m = page.evaluate(MEASURE)
        if url not in pages:
            assert m["styled"] == "visible", f"{url}: the portal's admin stylesheet is not applied"
        if m["scrollWidth"] > m["clientWidth"] or m["wideTables"]:
            page.screenshot(path=str(tmp_path / (url.strip("/").replace("/", "_") + ".png")), full_page=True)
            problems.append(f"{url}: page {m['scrollWidth']} > {m['clientWidth']} or tables {m['wideTables']}")
        if url not in pages and not m["rows"]:
            problems.append(f"{url}: no rows")
    context.close()
    assert not problems, "\n".join(problems) + f"\n(screenshots in {tmp_path})"


def test_the_tenant_admins_index_is_titled_with_the_tenant(client, world):
    client.login(username="reseller", password="pw-reseller-1")
    page = client.get("/t/acme/admin/").content.decode()
    assert "<h1>Acme</h1>" in page and "<title>Acme |" in page and "Site administration" not in page


def test_verbose_plurals_are_english():
    from django.apps import apps

    for model in apps.get_models():
        plural = str(model._meta.verbose_name_plural)
        # "config pushs", "entrys", "boxs": Django's default of adding an "s" got it wrong.
        assert not re.search(r"(sh|ch|ss|x|[^aeiou]y)s$", plural), (model, plural)
    assert str(apps.get_model("audit.AuditEntry")._meta.verbose_name_plural) == "audit entries"


def test_ensure_test_deps_waits_for_the_dpkg_lock():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "scripts" / "ensure_test_deps.sh").read_text()
    calls = [line for line in script.splitlines() if "apt-get" in line and not line.lstrip().startswith("#")]
    assert calls and all("wait_lock" in line or "Lock::Timeout" in line for line in calls), calls
    assert "DPkg::Lock::Timeout=600" in script
