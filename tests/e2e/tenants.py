"""Tenants and staff sending cases in through intake's doors (SMTP, web forms, letters
logged back-dated), each retrying until the door takes it, as a mail server or a person at
a web form would; what was sent, and how often it was refused first."""

import smtplib
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from uuid import uuid4

import httpx

from tests.e2e.faults import Services
from tests.e2e.system import STAFF_TOKEN

MAILBOXES = ("repairs_reporting", "customer_desk", "complaints")
SUBMIT_PATIENCE = 180.0  # seconds a tenant (or their mail server) keeps trying


@dataclass(frozen=True)
class Submission:
    kind: str  # mail, form or letter
    reference: str
    tenant_email: str | None  # who should get an acknowledgement


class Tenants:
    """Tenants and staff sending cases in, each retrying until the door takes it, as a mail
    server or a person at a web form would."""

    def __init__(self, services: Services) -> None:
        self.system = services.system
        self.run = uuid4().hex[:8]
        self.sent: list[Submission] = []
        self.refusals: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.count = 0
        self.http = httpx.Client(timeout=15)

    def burst(self, n: int) -> None:
        for _ in range(n):
            with self.lock:
                i, self.count = self.count, self.count + 1
            kind = ("mail", "form", "mail", "letter")[i % 4]
            submission = {"mail": self.mail, "form": self.form, "letter": self.letter}[kind](i)
            with self.lock:
                self.sent.append(submission)

    def _persist(self, attempt, what: str):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + SUBMIT_PATIENCE
        while True:
            try:
                if (result := attempt()) is not None:
                    return result
            except (OSError, smtplib.SMTPException, httpx.TransportError) as error:
                self.refusals[f"{what}: {type(error).__name__}"] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} was refused for {SUBMIT_PATIENCE:.0f} s")
            time.sleep(0.5)

    def mail(self, i: int) -> Submission:
        sender = f"tenant{i}.{self.run}@example.org"
        mail = EmailMessage()
        mail["From"], mail["To"] = sender, f"{MAILBOXES[i % 3]}@hexagon.org.uk"
        mail["Subject"], mail["Message-ID"] = f"Case {i}", f"<faults-{self.run}-{i}@example.org>"
        mail.set_content(f"Hello, the tap in my bathroom has been dripping for a week ({i}).")

        def attempt() -> str | None:
            with smtplib.SMTP("127.0.0.1", self.system.smtp_port, timeout=15) as smtp:
                smtp.ehlo()
                smtp.mail(sender)
                smtp.rcpt(mail["To"])
                code, reply = smtp.data(mail.as_bytes())
            if code != 250:
                self.refusals[f"mail: {code}"] += 1
                return None
            return reply.decode().rsplit(" ", 1)[-1]

        return Submission("mail", self._persist(attempt, "mail"), sender)

    def _post(self, path: str, body: dict, what: str, **headers: str) -> str:
        def attempt() -> str | None:
            response = self.http.post(self.system.url("intake", path), json=body, headers=headers)
            if response.status_code >= 500:
                self.refusals[f"{what}: {response.status_code}"] += 1
                return None
            assert response.status_code == 201, response.text
            return response.json()["reference"]

        return self._persist(attempt, what)

    def form(self, i: int) -> Submission:
        sender = f"tenant{i}.{self.run}@example.org"
        if i % 8 == 1:
            path, body = "/forms/repair", {
                "name": f"Tenant {i}", "email": sender, "address": f"{i} Peckham Road, London",
                "postcode": "SE15 5BU", "description": f"The kitchen cupboard door has come off ({i}).",
            }
        else:
            path, body = "/forms/complaint", {
                "name": f"Tenant {i}", "email": sender, "details": f"Nobody called me back about my rent ({i}).",
            }
        return Submission("form", self._post(path, body, "form"), sender)

    def letter(self, i: int) -> Submission:
        received = datetime.now(UTC) - timedelta(days=30)
        body = {"received_at": received.isoformat(), "text": f"Please mend my garden fence ({i})."}
        reference = self._post("/staff/letters", body, "letter", Authorization=f"Bearer {STAFF_TOKEN}")
        return Submission("letter", reference, None)
