"""A tenant complaining by email, staff acting on the case through intake's staff API, and
the SLA monitor's clocks read until they show what is expected: the steps the complaint
journeys share."""

import asyncio
from datetime import datetime

import httpx

from tests.e2e.system import STAFF_TOKEN, System
from tests.mail_sender import send_mail

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
MAILBOX = "complaints@hexagon.org.uk"


def complain_by_email(system: System, tenant: str, subject: str, words: str) -> str:
    """The case reference intake's 250 reply names."""
    return send_mail(system.smtp_port, tenant, MAILBOX, subject, words)


def act(system: System, reference: str, action: str, **body: object) -> dict:
    response = httpx.post(
        system.url("intake", f"/staff/cases/{reference}/{action}"), json=body, headers=STAFF, timeout=15
    )
    assert response.status_code == 202, response.text
    return response.json()


async def clock(system: System, case_id: str, definition: str, obligation: str, **expect: object) -> dict:
    """The clock once it shows what is expected (the monitor applies events as they come)."""
    def shows(found: dict) -> bool:
        return all(
            datetime.fromisoformat(found[k]) == v if isinstance(v, datetime) else found[k] == v
            for k, v in expect.items()
        )

    async with asyncio.timeout(60):
        while True:
            clocks = httpx.get(system.url("sla_monitor", "/clocks"), params={"subject_id": case_id}, timeout=10).json()
            found = [c for c in clocks if c["definition"] == definition and c["obligation"] == obligation]
            if found and shows(found[0]):
                return found[0]
            await asyncio.sleep(0.3)
