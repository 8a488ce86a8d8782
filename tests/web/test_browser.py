"""The console as a person uses it, in a real Chromium (Debian's package, driven by Playwright) against a live
server on the test database: an agent works a ticket from the queue through reply, transition, a form's
mandatory-field error and solve; a customer sees no internal note anywhere. Screenshots of the main pages go
to test-artifacts/ (TIERLINE_TEST_ARTIFACTS), for a person to look at.

Without Chromium (or the playwright package) these tests are skipped with a message saying how to get it; in
CI (CI=true) they fail instead: CI never skips them.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.web.conftest import PASSWORD, new_ticket, sla_policy
from tierline.platform import clock

try:  # the test extra installs it; without it these tests say so (and fail in CI)
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover
    sync_playwright = None

pytestmark = [pytest.mark.browser, pytest.mark.committing]

ARTIFACTS = Path(os.environ.get("TIERLINE_TEST_ARTIFACTS") or Path(__file__).parents[2] / "test-artifacts")
SECRET_NOTE = "INTERNAL-ONLY: this customer is on the legacy cluster"


def _chromium() -> str:
    found = os.environ.get("TIERLINE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found or ""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI runs the browser tests and never skips them", pytrace=False)
    pytest.skip(f"{reason}: browser tests skipped (apt-get install chromium, pip install -e '.[test]')")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if sync_playwright is None:
        _unavailable("the playwright package is not installed")
    path = _chromium()
    if not path:
        _unavailable("no Chromium found (TIERLINE_CHROMIUM, or chromium on the PATH)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=path, headless=True,
                                      args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        yield launched
        launched.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(app, frozen_clock) -> Iterator[str]:  # noqa: ANN001
    """The application served by uvicorn in a thread, on the (committing) test database; real time, so the
    SLA countdowns the browser runs agree with the server."""
    clock.unfreeze()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def org(admin, factory, live) -> dict[str, Any]:  # noqa: ANN001
    """A small organisation: a queue, a component, a customer with a contact who can log in, an agent, and
    tickets at several priorities (one of them a bug, whose form needs a component and an error code)."""
    sla_policy(admin)
    queue = admin.post("/api/v1/queues", json={"name": "L1 general", "tier": "L1"}).json()
    component = admin.post("/api/v1/components", json={"name": "Billing engine"}).json()
    admin.post("/api/v1/customers", json={"name": "Acme Corp", "external_id": "acme", "plan": "enterprise",
                                          "arr": 480000, "email_domains": ["acme.example"]})
    factory.user(roles=["agent_l1"], email="ann@support.example", password=PASSWORD, name="Ann Agent")
    factory.user(roles=["customer"], email="carl@acme.example", password=PASSWORD, name="Carl Customer")
    subjects = [("P2", "question", "Dashboard loads slowly after the upgrade"),
                ("P3", "question", "How do I rotate an API key?"),
                ("P4", "task", "Please add our new billing contact")]
    for priority, kind, subject in subjects:
        new_ticket(admin, priority=priority, type=kind, subject=subject, queue_id=queue["id"], tier="L1",
                   requester_email="dora@acme.example")
    bug = new_ticket(admin, priority="P1", type="bug", subject="Monthly report export is empty",
                     description="Since this morning every CSV export of the monthly report is empty.",
                     queue_id=queue["id"], tier="L1", requester_email="carl@acme.example")
    admin.post(f"/api/v1/tickets/{bug['key']}/messages", json={"body": SECRET_NOTE, "public": False})
    admin.post(f"/api/v1/tickets/{bug['key']}/messages", json={"body": "Thanks, we are looking into it."})
    return {"bug": bug, "component": component, "queue": queue}


def _login(page: Any, base: str, email: str, start: str) -> None:
    page.goto(base + start)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_agent_works_a_ticket_from_the_queue_to_solved(browser, live, org):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    key = org["bug"]["key"]
    _login(page, live, "ann@support.example", "/queues?view=all")
    assert page.url.endswith("/queues?view=all"), page.url
    rows = page.locator("table.tickets tbody tr[data-row]")
    assert rows.count() == 4
    dues = page.eval_on_selector_all("table.tickets time[data-due]", "els => els.map(e => e.dataset.due)")
    assert len(dues) == 4 and dues == sorted(dues), "sorted by SLA due, soonest first"
    assert "Acme Corp" in rows.first.inner_text() and "$480k" in rows.first.inner_text()
    _shot(page, "queue")

    # The keyboard: / searches, j/k move, Enter opens.
    page.keyboard.press("/")
    page.keyboard.type("export")
    page.wait_for_url("**q=export**")
    page.wait_for_function("document.querySelectorAll('table.tickets tbody tr[data-row]').length === 1")
    page.locator("#q").evaluate("input => input.blur()")
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/tickets/{key}"), page.url
    assert "Internal note" in page.inner_text("#conversation") and SECRET_NOTE in page.content()

    page.get_by_label("Public reply").fill("Thanks Carl, we can reproduce it and are on it.")
    page.get_by_role("button", name="Send reply").click()
    page.locator("#conversation").get_by_text("we can reproduce it").wait_for()

    with page.expect_navigation():
        page.get_by_role("button", name="On hold", exact=True).click()
    assert page.locator(".meta .status").inner_text() == "On hold"
    _shot(page, "ticket")

    # Solving a bug needs its component and error code (the form's mandatory fields), shown by field.
    with page.expect_navigation():
        page.get_by_role("button", name="Solved").click()
    assert page.locator("#e-component_id").is_visible() and page.locator("#e-error_code").is_visible()
    assert "is required before a bug ticket is solved" in page.inner_text("#e-error_code")
    _shot(page, "ticket-mandatory-fields")
    page.locator("#f-component_id").select_option(str(org["component"]["id"]))
    page.locator("#f-error_code").fill("EXPORT-EMPTY")
    with page.expect_navigation():
        page.get_by_role("button", name="Solved").click()
    assert page.locator(".meta .status").inner_text() == "Solved"

    # g q goes back to the queues; the phone layout has no sideways scrolling.
    page.locator("h1").click()
    page.keyboard.press("g")
    with page.expect_navigation():
        page.keyboard.press("q")
    assert page.url.endswith("/queues"), page.url
    phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=context.storage_state())
    small = phone.new_page()
    small.goto(live + "/queues?view=all")
    assert small.evaluate("document.documentElement.scrollWidth") <= 391
    _shot(small, "queue-phone")
    small.goto(live + f"/tickets/{key}")
    assert small.evaluate("document.documentElement.scrollWidth") <= 391
    _shot(small, "ticket-phone")
    phone.close()
    context.close()


def test_a_customer_sees_their_ticket_and_no_internal_note_anywhere(browser, live, org):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    key = org["bug"]["key"]
    _login(page, live, "carl@acme.example", "/")
    assert page.url.endswith("/portal"), page.url
    assert key in page.content() and "Dashboard loads slowly" not in page.content()  # Dora's tickets
    with page.expect_navigation():
        page.get_by_role("link", name=key, exact=True).click()
    assert page.url.endswith(f"/portal/tickets/{key}"), page.url
    assert "Thanks, we are looking into it." in page.inner_text(".conversation")
    page.get_by_label("Reply").fill("It is still empty today.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator(".conversation").get_by_text("It is still empty today.").wait_for()
    _shot(page, "portal-ticket")
    for url in ("/portal", f"/portal/tickets/{key}", "/portal/new", "/tokens", "/queues", f"/tickets/{key}"):
        page.goto(live + url)
        html = page.content()
        assert SECRET_NOTE not in html and "Internal note" not in html and "Triage record" not in html, url
    context.close()
