"""A real headless Chromium (Debian's, driven by Selenium through its chromedriver) fills in
the home-visit form served by intake over HTTP: first with answers missing, so the page
comes back naming them with what was typed kept, then complete, ticking harassment or
domestic violence. The case is then read from intake's database and outbox.

The form routes run in uvicorn on a free port over a migrated SQLite intake, in this
test's own event loop; the browser is driven from a worker thread.
"""

import asyncio
import json
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from shared.db import migrate
from shared.service import Runtime
from shared.standards.loader import load_all
from services.intake.adapters.tables import cases
from services.intake.bootstrap import bootstrap
from services.intake.settings import IntakeSettings
from services.intake.web import add_form_routes
from tests.fixtures.servers import unavailable

# Flags that work in a container without a display, a sandbox or a network to phone home to.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def browser() -> Iterator[object]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        unavailable("Debian's chromium and chromium-driver are not installed (make browser)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = IntakeSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}", kafka_bootstrap_servers="127.0.0.1:1"
    )
    runtime = bootstrap(settings)
    await migrate(runtime.migrations, settings.database())
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
async def site(intake: Runtime) -> AsyncIterator[str]:
    app = FastAPI()
    add_form_routes(app, intake, load_all())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def fill_in_the_home_visit_form(driver, site: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """What a tenant does: returns the error summary first seen, then the thank-you page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    wait = WebDriverWait(driver, 30)

    def type_into(name: str, text: str) -> None:
        box = driver.find_element(By.ID, f"f-{name}")
        box.clear()
        box.send_keys(text)

    def send() -> None:
        """Press the button and wait for the page it posts to (the old one goes stale)."""
        page = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait.until(expected_conditions.staleness_of(page))
        wait.until(expected_conditions.presence_of_element_located((By.TAG_NAME, "main")))

    driver.get(f"{site}/forms")
    index = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.LINK_TEXT, "Ask for a home visit").click()
    wait.until(expected_conditions.staleness_of(index))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Ask for a home visit"
    type_into("name", "Jo Tenant")
    type_into("email", "jo.tenant@example.org")
    send()
    summary = driver.find_element(By.CLASS_NAME, "error-summary").text
    assert driver.find_element(By.ID, "f-name").get_attribute("value") == "Jo Tenant"
    type_into("address", "12 Anerley Road\nPenge")
    type_into("postcode", "se20 8aa")
    type_into("reason", "My neighbour keeps shouting threats at me.")
    driver.find_element(By.CSS_SELECTOR, "label[for=f-harassment_or_domestic_violence]").click()
    send()
    return summary, driver.find_element(By.TAG_NAME, "main").text


async def test_a_tenant_asks_for_a_home_visit_in_a_real_browser(browser, site: str, intake: Runtime):  # type: ignore[no-untyped-def]
    summary, thanks = await asyncio.to_thread(fill_in_the_home_visit_form, browser, site)

    assert "There is a problem" in summary
    assert "Enter your address" in summary and "Enter your postcode" in summary
    async with intake.sessions() as session:
        case = (await session.execute(select(cases))).one()
        table = intake.outbox.table
        payload = await session.scalar(select(table.c.payload).where(table.c.event_type == "case.opened"))
    assert case.reference in thanks
    assert (case.kind, case.channel) == ("home_visit", "web")
    assert "safeguarding" in case.flags
    opened = json.loads(payload)
    assert opened["contact"]["email"] == "jo.tenant@example.org"
    assert "shouting threats" in opened["description"]
