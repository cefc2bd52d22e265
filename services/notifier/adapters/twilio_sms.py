"""SMS through Twilio's Messages API, with the twilio SDK and its asynchronous HTTP client.

Failures come out as the exception tree in `errors.py`; nothing here retries (the
caller owns backoff and the cap). Nothing logged or raised carries the number or the
text: Twilio's own error messages quote the 'To' number, so they are never passed on.
"""

import base64
import logging
import re
from types import MappingProxyType

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from services.notifier.adapters.errors import (
    PermanentSendError,
    RetryableSendError,
    SenderAuthError,
    SendError,
)

log = logging.getLogger(__name__)

_E164 = re.compile(r"\+[1-9]\d{6,14}")

# The SDK falls back to os.environ (TWILIO_EDGE, TWILIO_REGION, ...) for anything not
# passed, and an empty mapping counts as "not passed". Settings come from our settings
# only; a region or edge would also rewrite the host of a local base_url.
_NO_ENVIRONMENT = MappingProxyType({"TWILIO_EDGE": "", "TWILIO_REGION": ""})

# Twilio error codes met when creating a message, with a reason safe to log.
_REASONS: dict[int, str] = {
    20003: "Twilio refused the account credentials",
    20429: "Twilio is rate limiting this account",
    20500: "Twilio had an internal error",
    20503: "Twilio is temporarily unavailable",
    21211: "the 'To' number is not a valid phone number",
    21214: "the 'To' number cannot be reached",
    21408: "sending to this country is not enabled on the account",
    21602: "the message body is empty",
    21606: "the 'From' sender cannot send this message",
    21610: "the recipient has unsubscribed (replied STOP)",
    21612: "the 'To' number cannot be reached from this sender",
    21614: "the 'To' number is not a mobile number",
    21617: "the message body is too long",
}
# Refusals about the number itself, not about us or the text.
_RECIPIENT_CODES = frozenset({21211, 21214, 21610, 21612, 21614})


class _TimedAsyncHttpClient(AsyncTwilioHttpClient):
    """The SDK's async client with two things put right (twilio 9.x):

    - it stores the timeout it is built with but does not use it: a request made
      without one (every `create_async`) has no time limit at all. Here the client's
      timeout applies to every request (connect, send and read, in total);
    - it hands aiohttp an `auth=BasicAuth(...)`, deprecated in aiohttp 3.14 and gone
      in 4: the same Authorization header is set here instead.
    """

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if auth is not None:
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {credentials}"}
        return await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=self.timeout if timeout is None else timeout,
            allow_redirects=allow_redirects,
        )


class TwilioSmsSender:
    """Sends one SMS per call; `base_url` points the SDK's API domain elsewhere (a local
    fake in tests), replacing https://api.twilio.com."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str,
        status_callback_url: str,
        base_url: str | None = None,
        timeout: float = 10,
    ) -> None:
        if timeout <= 0:
            raise ValueError("the Twilio timeout must be a positive number of seconds")
        self.from_ = from_
        self.status_callback_url = status_callback_url
        self.timeout = timeout
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._base_url = base_url.rstrip("/") if base_url else None
        self._http: _TimedAsyncHttpClient | None = None
        self._client: Client | None = None

    async def send_sms(self, key: str, to_e164: str, body: str) -> str:
        """Hand one message to Twilio; its message SID ("SM...") when accepted."""
        if not _E164.fullmatch(to_e164):
            raise PermanentSendError(
                "invalid_number", "the 'To' number is not in E.164 form", recipient=True
            )
        client = self._connect()
        try:
            message = await client.messages.create_async(
                to=to_e164,
                from_=self.from_,
                body=body,
                status_callback=self.status_callback_url,
            )
        except (TwilioRestException, TwilioServiceException) as error:
            failure = _refusal(error.status, error.code)
        except TimeoutError:
            failure = RetryableSendError(
                "timeout", f"no answer from Twilio within {self.timeout:g} s"
            )
        except aiohttp.ClientError as error:
            failure = RetryableSendError(
                "connection", f"could not reach Twilio ({type(error).__name__})"
            )
        else:
            log.info(
                "sms accepted by Twilio",
                extra={"idempotency_key": key, "channel": "sms", "status": message.status},
            )
            return message.sid
        log.warning(
            "sms not sent",
            extra={
                "idempotency_key": key,
                "channel": "sms",
                "reason": failure.reason,
                "kind": type(failure).__name__,
            },
        )
        raise failure

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = self._client = None

    def _connect(self) -> Client:
        # The async HTTP client opens an aiohttp session at construction, which needs a
        # running event loop: so it is made on first use, not in __init__.
        if self._client is None:
            self._http = _TimedAsyncHttpClient(timeout=self.timeout)
            client = Client(
                self._account_sid,
                self._auth_token,
                http_client=self._http,
                environment=_NO_ENVIRONMENT,
            )
            if self._base_url:
                # Every resource under client.api (Messages among them) builds its URL
                # from this Domain attribute, which the SDK sets to https://api.twilio.com.
                client.api.base_url = self._base_url
            self._client = client
        return self._client


def _refusal(status: int, code: int | None) -> SendError:
    code = code or status
    known = _REASONS.get(code)
    reason = f"{known} (HTTP {status})" if known else f"Twilio refused the message (HTTP {status})"
    if status in (401, 403):
        return SenderAuthError(code, reason)
    if status in (408, 429) or status >= 500:
        return RetryableSendError(code, reason)
    return PermanentSendError(code, reason, recipient=code in _RECIPIENT_CODES)
