"""The intake service: inbound SMTP, and the HTTP doors for forms and staff."""

import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from shared.events.cases import (
    CaseClosed,
    CaseOpened,
    CaseReplied,
    Channel,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintResponded,
    ExtensionAgreed,
    Mailbox,
)
from shared.events.notifications import NotificationRequested
from shared.kafka import declare_publications
from shared.topics import Topic
from shared.events.envelope import AwareDatetime
from shared.service import Runtime, http_app
from shared.standards.loader import load_all
from shared.standards.models import StandardsBook
from services.intake import handlers
from services.intake.adapters.smtp import MailboxHandler, serve_smtp
from services.intake.bootstrap import bootstrap
from services.intake.domain.cases import ReceivedContact
from services.intake.domain.mail import MAILBOX_ADDRESSES, mailbox_for
from services.intake.settings import IntakeSettings
from services.intake.staff import TenantDetails, add_staff_routes
from services.intake.web import add_form_routes


class LetterIn(TenantDetails):
    model_config = ConfigDict(extra="forbid")

    received_at: AwareDatetime = Field(description="When the letter arrived (with UTC offset)")
    text: str = Field(min_length=1, description="The letter's words, as typed or scanned")
    subject: str = ""


class MimeAccepted(BaseModel):
    reference: str | None = Field(description="The case it opened or was already part of; none for unreadable or automatic mail")


class CaseCreated(BaseModel):
    case_id: str
    reference: str


ADDRESS_OF = {mailbox: local for local, mailbox in MAILBOX_ADDRESSES.items()}


def create_app(runtime: Runtime | None = None, book: StandardsBook | None = None) -> FastAPI:
    runtime = runtime or bootstrap()
    book = book or load_all()
    settings: IntakeSettings = runtime.settings  # type: ignore[assignment]
    declare_publications(
        runtime.broker,
        {
            Topic.CASES: CaseOpened
            | CaseReplied
            | CaseClosed
            | ComplaintAcknowledged
            | ComplaintResponded
            | ComplaintEscalated
            | ExtensionAgreed,
            Topic.NOTIFICATIONS_REQUESTED: NotificationRequested,
        },
    )
    app = http_app(runtime, "Doorstep intake", "Every inbound contact becomes a case.")
    _add_smtp(runtime, book, settings)
    staff = _staff_guard(settings)

    @app.post("/staff/letters", status_code=201, tags=["staff"])
    async def log_letter(letter: LetterIn, _: Annotated[str, Depends(staff)]) -> CaseCreated:
        """Log a letter received by post; its reply clock runs from the received date."""
        contact = ReceivedContact(
            channel=Channel.LETTER,
            mailbox=None,
            text=letter.text,
            subject=letter.subject,
            received_at=letter.received_at,
            **letter.details(),
        )
        case = await handlers.record_contact(runtime, book, contact)
        return CaseCreated(case_id=case.case_id, reference=case.reference)

    add_form_routes(app, runtime, book)
    add_staff_routes(app, runtime, book, staff)
    provider = _bearer_guard(settings.mime_token_set(), "mail provider")

    @app.post("/inbound/mime/{mailbox}", tags=["mail provider"])
    async def raw_mime(mailbox: Mailbox, request: Request, _: Annotated[str, Depends(provider)]) -> MimeAccepted:
        """A mail as raw MIME (message/rfc822), for a provider's inbound webhook."""
        raw = await request.body()
        if len(raw) > settings.max_message_bytes:
            raise HTTPException(413, "the message is larger than the limit")
        recipient = f"{ADDRESS_OF[mailbox]}@{settings.mail_domain}"
        reference = await handlers.receive_mail(runtime, book, mailbox, recipient, raw)
        return MimeAccepted(reference=reference)

    return app


def _add_smtp(runtime: Runtime, book: StandardsBook, settings: IntakeSettings) -> None:
    def resolve(address: str) -> Mailbox | None:
        return mailbox_for(address, settings.mail_domain)

    async def accept(mailbox: Mailbox, recipient: str, raw: bytes) -> str | None:
        return await handlers.receive_mail(runtime, book, mailbox, recipient, raw)

    servers = []

    async def start() -> None:
        handler = MailboxHandler(resolve, accept)
        servers.append(
            await serve_smtp(handler, settings.smtp_host, settings.smtp_port, settings.max_message_bytes)
        )

    async def stop() -> None:
        for server in servers:
            server.close()
            await server.wait_closed()

    runtime.on_start.append(start)
    runtime.on_stop.append(stop)


def _staff_guard(settings: IntakeSettings):  # type: ignore[no-untyped-def]
    return _bearer_guard(settings.staff_token_set(), "staff")


def _bearer_guard(tokens: frozenset[str], who: str):  # type: ignore[no-untyped-def]
    bearer = HTTPBearer(auto_error=False)

    def require_staff(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if credentials is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"a {who} bearer token is required")
        if not any(secrets.compare_digest(credentials.credentials, t) for t in tokens):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this token may not use the {who} API")
        return credentials.credentials

    return require_staff
