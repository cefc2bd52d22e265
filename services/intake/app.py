"""The intake service: inbound SMTP, and the HTTP doors for forms and staff."""

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from shared.events.cases import (
    CaseClosed,
    CaseFlagged,
    CaseMessageReceived,
    CaseOpened,
    CaseReplied,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintResponded,
    ExtensionAgreed,
    Mailbox,
)
from shared.events.notifications import NotificationRequested
from shared.kafka import declare_publications
from shared.topics import Topic
from shared.service import Runtime, http_app, settle_the_collector
from shared.standards.loader import load_all
from shared.standards.models import StandardsBook
from services.intake import handlers
from services.intake.adapters.smtp import MailboxHandler, serve_smtp
from services.intake.auth import StaffAuth, provider_guard
from services.intake.bootstrap import bootstrap
from services.intake.domain.mail import MAILBOX_ADDRESSES, mailbox_for
from services.intake.settings import IntakeSettings
from services.intake.staff import add_staff_routes
from services.intake.web import add_form_routes


class MimeAccepted(BaseModel):
    reference: str | None = Field(description="The case it opened or was already part of; none for unreadable or automatic mail")


ADDRESS_OF = {mailbox: local for local, mailbox in MAILBOX_ADDRESSES.items()}


def create_app(runtime: Runtime | None = None, book: StandardsBook | None = None) -> FastAPI:
    runtime = runtime or bootstrap()
    book = book or load_all()
    settings: IntakeSettings = runtime.settings  # type: ignore[assignment]
    declare_publications(
        runtime.broker,
        {
            Topic.CASES: CaseOpened
            | CaseMessageReceived
            | CaseFlagged
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
    add_form_routes(app, runtime, book)
    add_staff_routes(app, runtime, book, StaffAuth(settings.staff_token_roles()))
    provider = provider_guard(settings.mime_token_set())

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
        settle_the_collector()

    async def stop() -> None:
        for server in servers:
            server.close()
            await server.wait_closed()

    runtime.on_start.append(start)
    runtime.on_stop.append(stop)
