"""A tenant's mobile in an end-to-end journey: the notifier sends its texts through the
real Twilio SDK to the local fake of Twilio's API (`tests/fakes/twilio_api.py`), and the
tenant's texts back are POSTed to the notifier's inbound webhook, signed as Twilio signs
them. The fake outlives the system's restarts, so a journey sees every text of its days."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode
from uuid import uuid4

import httpx
from twilio.request_validator import RequestValidator

from services.cli.processes import SERVICES
from tests.e2e.system import BASE_PORT
from tests.fakes.twilio_api import FakeTwilio, RecordedRequest

INBOUND_PATH = "/v1/twilio/inbound"
TEXT_PATIENCE = 90.0  # seconds: texts wait behind the outbox relay and the notifier's pacing


def notifier_port() -> int:
    """The notifier's HTTP port in `running_system` (tests/e2e/system.py)."""
    return BASE_PORT + 1 + SERVICES.index("notifier")


def twilio_settings(fake: FakeTwilio) -> dict[str, str]:
    """The notifier's settings for texts through the fake, and the URLs it signs."""
    base = f"http://127.0.0.1:{notifier_port()}"
    return {
        "NOTIFIER_TWILIO_ACCOUNT_SID": fake.account_sid,
        "NOTIFIER_TWILIO_AUTH_TOKEN": fake.auth_token,
        "NOTIFIER_TWILIO_BASE_URL": fake.base_url,
        "NOTIFIER_STATUS_CALLBACK_URL": base + "/v1/twilio/status",
        "NOTIFIER_INBOUND_SMS_URL": base + INBOUND_PATH,
    }


@dataclass
class Mobile:
    """One tenant's mobile, in E.164."""

    fake: FakeTwilio
    number: str

    def received(self) -> list[str]:
        """Every text accepted for this mobile so far, oldest first."""
        return [r.body or "" for r in self.fake.requests_to(self.number) if _accepted(self.fake, r)]

    async def wait_for(self, match: Callable[[str], bool], after: int = 0, timeout: float = TEXT_PATIENCE) -> str:
        """The first text (from the `after`th on) that matches."""
        async with asyncio.timeout(timeout):
            while True:
                for body in self.received()[after:]:
                    if match(body):
                        return body
                await asyncio.sleep(0.3)

    def send(self, body: str) -> httpx.Response:
        """The tenant texts back: Twilio posts it to the notifier, signed."""
        url = twilio_settings(self.fake)["NOTIFIER_INBOUND_SMS_URL"]
        form = {
            "AccountSid": self.fake.account_sid,
            "MessageSid": "SM" + uuid4().hex,
            "From": self.number,
            "To": "Hexagon",
            "Body": body,
            "NumMedia": "0",
        }
        signature = RequestValidator(self.fake.auth_token).compute_signature(url, form)
        response = httpx.post(
            url,
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
            timeout=15,
        )
        assert response.status_code == 200, response.text
        return response


def _accepted(fake: FakeTwilio, request: RecordedRequest) -> bool:
    return request.authenticated and request.account_sid == fake.account_sid

