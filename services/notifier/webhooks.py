"""Twilio's calls to the notifier: status reports on the texts it sent, signed with our
auth token and checked with the SDK's RequestValidator."""

import logging
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from twilio.request_validator import RequestValidator

from services.notifier.handlers import Notifier

log = logging.getLogger(__name__)

STATUS_PATH = "/v1/twilio/status"


def add_twilio_routes(app: FastAPI, notifier: Notifier, auth_token: str, callback_url: str) -> None:
    """`callback_url` is the address Twilio was given and signed, which behind a proxy is
    not the address this process sees."""
    validator = RequestValidator(auth_token) if auth_token else None

    @app.post(STATUS_PATH, status_code=204, tags=["twilio"])
    async def twilio_status(request: Request) -> Response:
        """A message status report from Twilio. A bad or missing signature gets 403."""
        form = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
        signature = request.headers.get("X-Twilio-Signature", "")
        if validator is None or not validator.validate(callback_url, form, signature):
            log.warning("status report refused: bad signature", extra={"path": STATUS_PATH})
            return Response(status_code=403)
        await notifier.status_reported(
            form.get("MessageSid", ""), form.get("MessageStatus", ""), form.get("ErrorCode") or None
        )
        return Response(status_code=204)
