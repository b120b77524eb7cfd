"""In a real browser (Debian chromium driven by Playwright): the Scalar docs page offline, the
admin login and a reseller's tenant list."""
import pytest

pytestmark = [pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page(live_server, committed_world):
    # The world is built before Playwright starts its event loop in this thread (Django refuses
    # database calls from a thread running an event loop).
    from playwright.sync_api import sync_playwright

    outside = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(accept_downloads=True)

        def guard(route):
            if route.request.url.startswith(live_server.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.outside_requests = outside
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_docs_page_renders_operations_offline_and_offers_the_spec(browser_page, live_server, committed_world,
                                                                   settings):
    settings.STATIC_ROOT = None  # serve from STATICFILES_DIRS via the finder
    page = browser_page
    page.goto(f"{live_server.url}/api/docs/", wait_until="networkidle")
    page.wait_for_selector("text=Thirdlane portal API", timeout=30000)
    body = page.inner_text("body")
    # The sidebar lists every tag; the first group's operations are rendered with their paths.
    for tag in ("tenants", "api-keys", "audit-log", "health"):
        assert tag in body, tag
    page.locator("text=api-keys").first.click()
    page.wait_for_selector("text=/api/api-keys/{id}/rotate/", timeout=15000)
    page.locator("text=tenants").first.click()
    page.wait_for_selector("text=/api/tenants/{slug}/suspend/", timeout=15000)
    assert page.outside_requests == [], page.outside_requests
    # The combined specification is downloadable from the page itself.
    download_button = page.locator("text=/Download/i").first
    assert download_button.count() == 1
    with page.expect_download(timeout=15000) as info:
        download_button.click()
        # The format menu's own "JSON" item (descriptions in the page mention JSON lines too).
        json_choice = page.locator("text=/^\\s*json\\s*$/i")
        if json_choice.count():
            json_choice.first.click()
    path = info.value.path()
    import json

    with open(path) as fh:
        spec = json.load(fh)
    assert spec["openapi"].startswith("3.1") and "/api/tenants/" in spec["paths"]
    assert page.outside_requests == []


def test_reseller_logs_into_the_admin_and_sees_only_its_tenants(browser_page, live_server, committed_world):
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "reseller")
    page.fill("#id_password", "pw-reseller-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#tenant-dashboard")
    dashboard = page.inner_text("#tenant-dashboard")
    assert "Acme" in dashboard and "Globex" in dashboard and "Initech" not in dashboard
    page.goto(f"{live_server.url}/admin/tenants/tenant/")
    rows = page.inner_text("#result_list")
    assert "acme" in rows and "globex" in rows and "initech" not in rows
    # the tenant admin of one of its tenants opens; another reseller's does not exist for it
    page.goto(f"{live_server.url}/t/acme/admin/")
    assert "Tenant: Acme" in page.inner_text("#tenant-switcher")
    response = page.goto(f"{live_server.url}/t/initech/admin/")
    assert response.status == 404
    assert page.outside_requests == []
