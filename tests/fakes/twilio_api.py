"""A fake of Twilio's Messages API, served over real HTTP on 127.0.0.1.

It answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio does: HTTP
basic auth with the account SID and auth token (401, code 20003, otherwise), the form
fields To, From, Body and StatusCallback, a 201 with the message resource in JSON, and
Twilio's error JSON (`code`, `message`, `more_info`, `status`) for a refusal. Every
request is recorded, accepted or not. A test can tell it to refuse a given 'To' number
with any status and code (invalid number, unsubscribed, 429, 500), a given number of
times or always, or to never answer at all, or to take a message and hold back its
answer until the test says; it can sign status callbacks for the messages it
accepted, as Twilio would post them to the StatusCallback URL, and post them there,
shuffled and repeated, as Twilio's do arrive.

    with serve_fake_twilio() as fake:        # or the `fake_twilio` fixture
        sender = TwilioSmsSender(fake.account_sid, fake.auth_token, ..., base_url=fake.base_url)

It can also run as a process of its own, so that what it records (each request's arrival
time above all) does not wait on the rest of a busy process; what it recorded is read
back over HTTP, from `GET /fake/requests?since=N` (the requests from the Nth on, without
their headers, which carry the credentials):

    python -m tests.fakes.twilio_api --port 8089 [--account-sid AC...] [--auth-token ...] [--socket-fd N]

    with serve_fake_twilio_process() as fake:
        ... fake.requests_since(0) ...
"""

import argparse
import asyncio
import base64
import binascii
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import IO
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
MESSAGES_PATH = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json"
REQUESTS_PATH = "/fake/requests"  # the fake's own: what it recorded, read-only
EVERY_NUMBER = "*"
HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    account_sid: str
    form: dict[str, str]
    headers: dict[str, str]
    authenticated: bool
    at: float = field(default_factory=time.time)  # when it arrived (Unix time, seconds)

    @property
    def to(self) -> str | None:
        return self.form.get("To")

    @property
    def from_(self) -> str | None:
        return self.form.get("From")

    @property
    def body(self) -> str | None:
        return self.form.get("Body")

    @property
    def status_callback(self) -> str | None:
        return self.form.get("StatusCallback")

    def as_json(self) -> dict[str, object]:
        """As `GET /fake/requests` lists it: everything but the headers (they carry the
        credentials)."""
        return {
            "method": self.method,
            "path": self.path,
            "account_sid": self.account_sid,
            "form": self.form,
            "authenticated": self.authenticated,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, item: dict[str, object]) -> "RecordedRequest":
        """One request as `GET /fake/requests` listed it (so with no headers)."""
        return cls(
            str(item["method"]),
            str(item["path"]),
            str(item["account_sid"]),
            dict(item["form"]),  # type: ignore[call-overload]
            {},
            bool(item["authenticated"]),
            float(item["at"]),  # type: ignore[arg-type]
        )


@dataclass
class _Refusal:
    status: int
    code: int
    message: str
    times: int | None  # None: every time


@dataclass
class HeldAnswer:
    """A message taken (recorded, given a SID) whose 201 waits until `release` is set."""

    accepted: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class StatusCallback:
    """A status callback as Twilio would POST it: form-encoded, signed with the auth token."""

    url: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeTwilio:
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    base_url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    messages: dict[str, dict[str, object]] = field(default_factory=dict)
    _refusals: dict[str, _Refusal] = field(default_factory=dict)
    _hanging: set[str] = field(default_factory=set)
    _held_answers: dict[str, HeldAnswer] = field(default_factory=dict)
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # What to answer ---------------------------------------------------------------------

    def refuse(
        self, to: str, status: int, code: int, message: str, times: int | None = None
    ) -> None:
        """Answer requests for `to` (or EVERY_NUMBER) with this error, `times` times or always."""
        with self._lock:
            self._refusals[to] = _Refusal(status, code, message, times)

    def invalid_number(self, to: str) -> None:
        self.refuse(to, 400, 21211, f"The 'To' number {to} is not a valid phone number.")

    def unsubscribed(self, to: str) -> None:
        self.refuse(to, 400, 21610, "Attempt to send to unsubscribed recipient")

    def rate_limited(self, to: str = EVERY_NUMBER, times: int | None = None) -> None:
        self.refuse(to, 429, 20429, "Too Many Requests", times)

    def server_error(self, to: str = EVERY_NUMBER, times: int | None = None) -> None:
        self.refuse(to, 500, 20500, "An internal server error has occurred", times)

    def hang(self, to: str = EVERY_NUMBER) -> None:
        """Read the request for `to` and never answer it (until the fake stops)."""
        with self._lock:
            self._hanging.add(to)

    def hold_answer(self, to: str) -> HeldAnswer:
        """Take the next message for `to`, then answer only once the test releases it."""
        held = HeldAnswer()
        with self._lock:
            self._held_answers[to] = held
        return held

    # What happened ----------------------------------------------------------------------

    def requests_to(self, to: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.to == to]

    # `requests`: every request, in arrival order. `messages`: the accepted ones by SID,
    # as the resource Twilio answered plus the StatusCallback they asked for.

    def status_callback(
        self, sid: str, status: str, error_code: int | None = None
    ) -> StatusCallback:
        """The signed callback Twilio would post for message `sid` reaching `status`."""
        message = self.messages[sid]
        url = str(message["status_callback"])
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": str(message["from"]),
            "To": str(message["to"]),
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        return StatusCallback(url, form, {"X-Twilio-Signature": signature})

    async def replay_status_callbacks(
        self,
        statuses: dict[str, list[str | tuple[str, int]]],
        *,
        copies: int = 2,
        seed: int = 0,
        timeout: float = 10,
    ) -> list[int]:
        """POST each message's statuses (a status, or a status and error code) to its
        StatusCallback, signed, every one `copies` times, all shuffled together, one
        after another, as Twilio's callbacks arrive: late, early and twice. Returns
        the HTTP statuses the notifier answered."""
        callbacks = [
            self.status_callback(sid, *((reported,) if isinstance(reported, str) else reported))
            for sid, reported_list in statuses.items()
            for reported in reported_list
            for _ in range(copies)
        ]
        random.Random(seed).shuffle(callbacks)
        async with httpx.AsyncClient(timeout=timeout) as client:
            answers = [
                await client.post(
                    callback.url,
                    content=urlencode(callback.form),
                    headers={**callback.headers, "Content-Type": "application/x-www-form-urlencoded"},
                )
                for callback in callbacks
            ]
        return [answer.status_code for answer in answers]

    # The HTTP side ----------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(MESSAGES_PATH, self._create_message, methods=["POST"]),
                Route(REQUESTS_PATH, self._list_requests, methods=["GET"]),
            ]
        )

    async def _list_requests(self, request: Request) -> Response:
        """The recorded requests from index `since` on (all of them by default), in
        arrival order, so a reader that polls asks only for the ones it has not seen."""
        since = request.query_params.get("since", "0")
        if not (since.isascii() and since.isdigit()):
            return JSONResponse({"message": "since must be a whole number"}, status_code=400)
        with self._lock:
            recorded = self.requests[int(since):]
        return JSONResponse([r.as_json() for r in recorded])

    async def _create_message(self, request: Request) -> Response:
        arrived = time.time()
        account_sid = request.path_params["account_sid"]
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        authenticated = self._authenticated(request.headers.get("authorization", ""))
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    "POST",
                    request.url.path,
                    account_sid,
                    form,
                    dict(request.headers),
                    authenticated,
                    arrived,
                )
            )
        if not authenticated:
            return _error(
                401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'}
            )
        if account_sid != self.account_sid:
            return _error(404, 20404, f"The requested resource {request.url.path} was not found")
        to = form.get("To", "")
        if to in self._hanging or EVERY_NUMBER in self._hanging:
            while not self._released.is_set():
                await asyncio.sleep(0.02)
            return _error(503, 20503, "Service unavailable")
        refusal = self._take_refusal(to)
        if refusal is not None:
            return _error(refusal.status, refusal.code, refusal.message)
        invalid = _invalid(form)
        if invalid is not None:
            return _error(400, *invalid)
        accepted = self._accept(form)
        with self._lock:
            held = self._held_answers.pop(to, None)
        if held is not None:
            held.accepted.set()
            while not (held.release.is_set() or self._released.is_set()):
                await asyncio.sleep(0.01)
        return JSONResponse(accepted, status_code=201)

    def _authenticated(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(decoded, f"{self.account_sid}:{self.auth_token}")

    def _take_refusal(self, to: str) -> _Refusal | None:
        with self._lock:
            key = to if to in self._refusals else EVERY_NUMBER
            refusal = self._refusals.get(key)
            if refusal is None:
                return None
            if refusal.times is not None:
                refusal.times -= 1
                if refusal.times <= 0:
                    del self._refusals[key]
            return refusal

    def _accept(self, form: dict[str, str]) -> dict[str, object]:
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=False).replace("-0000", "+0000")
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        resource: dict[str, object] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }
        with self._lock:
            self.messages[sid] = {**resource, "status_callback": form.get("StatusCallback")}
        return resource


def _invalid(form: dict[str, str]) -> tuple[int, str] | None:
    """Twilio's checks on a new message, in its order, as (code, message)."""
    to = form.get("To", "")
    if not to:
        return 21604, "A 'To' phone number is required."
    if not (to.startswith("+") and to[1:].isdigit() and 8 <= len(to) <= 16):
        return 21211, f"Invalid 'To' Phone Number: {to}"
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return 21603, "A 'From' phone number is required."
    if not form.get("Body"):
        return 21602, "Message body is required."
    if len(form["Body"]) > 1600:
        return 21617, "The concatenated message body exceeds the 1600 character limit."
    return None


def _error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


@contextmanager
def serve_fake_twilio(fake: FakeTwilio | None = None) -> Iterator[FakeTwilio]:
    """Run the fake with uvicorn in a background thread on a free port of 127.0.0.1."""
    fake = fake or FakeTwilio()
    sock = _bound_socket(HOST, 0)
    port = sock.getsockname()[1]
    server = _server(fake)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="fake-twilio", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake Twilio API did not start")
        time.sleep(0.01)
    fake.base_url = f"http://{HOST}:{port}"
    try:
        yield fake
    finally:
        fake._released.set()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass(frozen=True)
class FakeTwilioProcess:
    """The fake run by `serve_fake_twilio_process`: where it listens, the credentials it
    accepts, and what it recorded, read over HTTP."""

    account_sid: str
    auth_token: str
    base_url: str
    process: subprocess.Popen[bytes]

    def requests_url(self, since: int = 0) -> str:
        return f"{self.base_url}{REQUESTS_PATH}?since={since}"

    def requests_since(self, since: int = 0, timeout: float = 5) -> list[RecordedRequest]:
        answer = httpx.get(self.requests_url(since), timeout=timeout)
        answer.raise_for_status()
        return [RecordedRequest.from_json(item) for item in answer.json()]


@contextmanager
def serve_fake_twilio_process(
    output: int | IO[bytes] = subprocess.DEVNULL, timeout: float = 30
) -> Iterator[FakeTwilioProcess]:
    """Run `python -m tests.fakes.twilio_api` on a free port of 127.0.0.1 until it
    answers, and stop it at the end (SIGTERM, then SIGKILL if it lingers). The port is
    bound here and the socket handed to the child, so nothing can take it in between."""
    account_sid, auth_token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    with _bound_socket(HOST, 0) as sock:
        command = [
            sys.executable, "-m", "tests.fakes.twilio_api", "--socket-fd", str(sock.fileno()),
            "--account-sid", account_sid, "--auth-token", auth_token,
        ]
        child = subprocess.Popen(command, cwd=REPO, stdout=output, stderr=output, pass_fds=(sock.fileno(),))
        port = sock.getsockname()[1]
    fake = FakeTwilioProcess(account_sid, auth_token, f"http://{HOST}:{port}", child)
    try:
        _wait_until_it_answers(fake, timeout)
        yield fake
    finally:
        _stop(child)


def _wait_until_it_answers(fake: FakeTwilioProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fake.process.poll() is not None:
            raise RuntimeError(f"the fake Twilio API exited with {fake.process.returncode}")
        try:
            if httpx.get(fake.requests_url(), timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the fake Twilio API did not answer")


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the fake of Twilio's Messages API.")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=0, help="0 (the default): a free port")
    parser.add_argument("--socket-fd", type=int, help="serve on this bound socket, inherited, instead")
    parser.add_argument("--account-sid", help="the account it accepts (default: a new one)")
    parser.add_argument("--auth-token", help="the token it accepts (default: a new one)")
    args = parser.parse_args(argv)
    given = {"account_sid": args.account_sid, "auth_token": args.auth_token}
    fake = FakeTwilio(**{name: value for name, value in given.items() if value})
    sock = socket.socket(fileno=args.socket_fd) if args.socket_fd is not None else _bound_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    fake.base_url = f"http://{host}:{port}"
    print(f"fake Twilio Messages API on {fake.base_url}, account SID {fake.account_sid}", flush=True)
    # Served as it is: no refusals or held answers, since nothing can ask for them here.
    try:
        _server(fake).run(sockets=[sock])
    finally:
        sock.close()


def _bound_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _server(fake: FakeTwilio) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(fake.app(), log_level="warning", lifespan="off", timeout_graceful_shutdown=2))


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A fresh fake Twilio Messages API for one test, listening on 127.0.0.1."""
    with serve_fake_twilio() as fake:
        yield fake


if __name__ == "__main__":
    main()
