"""Twilio's calls to the notifier: status reports on the texts it sent, signed with our
auth token and checked with the SDK's RequestValidator."""

import logging
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from services.notifier.handlers import Notifier

log = logging.getLogger(__name__)

STATUS_PATH = "/v1/twilio/status"
INBOUND_PATH = "/v1/twilio/inbound"


def add_twilio_routes(
    app: FastAPI, notifier: Notifier, auth_token: str, callback_url: str, inbound_url: str = ""
) -> None:
    """The URLs are the addresses Twilio was given and signs, which behind a proxy are
    not the addresses this process sees."""
    validator = RequestValidator(auth_token) if auth_token else None

    async def signed_form(request: Request, url: str) -> dict[str, str] | None:
        form = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
        signature = request.headers.get("X-Twilio-Signature", "")
        if validator is None or not url or not validator.validate(url, form, signature):
            log.warning("call refused: bad signature", extra={"path": request.url.path})
            return None
        return form

    @app.post(STATUS_PATH, status_code=204, tags=["twilio"])
    async def twilio_status(request: Request) -> Response:
        """A message status report from Twilio. A bad or missing signature gets 403."""
        if (form := await signed_form(request, callback_url)) is None:
            return Response(status_code=403)
        await notifier.status_reported(
            form.get("MessageSid", ""), form.get("MessageStatus", ""), form.get("ErrorCode") or None
        )
        return Response(status_code=204)

    @app.post(INBOUND_PATH, tags=["twilio"])
    async def twilio_inbound(request: Request) -> Response:
        """A text from a tenant: STOP, START and HELP are honoured; the answer is TwiML."""
        if (form := await signed_form(request, inbound_url)) is None:
            return Response(status_code=403)
        answer = await notifier.text_received(form.get("From", ""), form.get("Body", ""), form.get("MessageSid", ""))
        twiml = MessagingResponse()
        if answer:
            twiml.message(answer)
        return Response(str(twiml), media_type="application/xml")
