"""The real-browser lane: Debian's Chromium driven by Playwright against pytest-django's live
server. One browser per module (a new context per test keeps sessions apart); a failing test
leaves a screenshot under var/test-artifacts/."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1"}

# The live server listens on 127.0.0.1 (not "localhost", which may resolve elsewhere first), so
# that a page never needs a request to leave it. Read when live_server first starts.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

pytestmark = pytest.mark.slow


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser() -> Browser:
    # Playwright's sync API runs an event loop in this thread, so Django sees every ORM call the
    # test makes meanwhile as "async" and refuses it: allow them while the browser is up.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            yield browser
            browser.close()


@pytest.fixture
def page(browser, live_server, request) -> Page:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()


@pytest.fixture
def blocked_hosts(page) -> list[str]:
    """Every request to a host other than the live server's is aborted and its URL kept here."""
    blocked = []

    def only_local(route):
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    return blocked


@pytest.fixture
def role_user(transactional_db):
    """role_user(role): a staff user in that role's group (apps.common.roles), and its password."""

    def make(role: str) -> tuple[str, str]:
        username, password = role.lower().replace(" ", "-"), f"pw-{role.lower().replace(' ', '-')}-1"
        user = get_user_model().objects.create_user(username, f"{username}@example.com", password, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        return username, password

    return make


def sign_in(page: Page, username: str, password: str) -> None:
    """Through the admin's login form, as a person would."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
