"""The fake Messages API as a process of its own (`python -m tests.fakes.twilio_api`): the
real twilio SDK sends to it, and what it recorded is read back from `GET /fake/requests`."""

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from services.notifier.adapters.twilio_sms import TwilioSmsSender
from tests.fakes.twilio_api import FakeTwilioProcess, serve_fake_twilio_process

TO = "+447700900123"
FROM = "Hexagon"
CALLBACK = "https://notifier.example.org/twilio/status"
BODY = "Your repair appointment is tomorrow, 8am to 12pm. Reply CONFIRM or REARRANGE."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilioProcess]:
    with serve_fake_twilio_process() as served:
        yield served


@pytest.fixture
async def sender(fake: FakeTwilioProcess) -> AsyncIterator[TwilioSmsSender]:
    sms = TwilioSmsSender(
        fake.account_sid, fake.auth_token, FROM, CALLBACK, base_url=fake.base_url, timeout=5
    )
    yield sms
    await sms.aclose()


async def test_a_message_sent_by_the_sdk_is_read_back_from_the_route(
    fake: FakeTwilioProcess, sender: TwilioSmsSender
) -> None:
    seen = len(fake.requests_since(0))
    before = time.time()
    sid = await sender.send_sms("key-1", TO, BODY)
    after = time.time()

    assert sid.startswith("SM") and len(sid) == 34
    [request] = fake.requests_since(seen)
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    assert request.account_sid == fake.account_sid
    assert request.authenticated
    assert (request.to, request.from_, request.body) == (TO, FROM, BODY)
    assert request.status_callback == CALLBACK
    assert before <= request.at <= after


def test_the_route_lists_no_headers_and_no_credentials(
    fake: FakeTwilioProcess,
) -> None:
    seen = len(fake.requests_since(0))
    post_message(fake, "a text", fake.auth_token)

    answer = httpx.get(fake.requests_url(seen), timeout=5)

    [listed] = answer.json()
    assert set(listed) == {"method", "path", "account_sid", "form", "authenticated", "at"}
    assert fake.auth_token not in answer.text


def test_since_gives_only_the_requests_after_the_ones_already_read(
    fake: FakeTwilioProcess,
) -> None:
    seen = len(fake.requests_since(0))
    for n in range(3):
        post_message(fake, f"text {n}", fake.auth_token)

    assert [r.body for r in fake.requests_since(seen)] == ["text 0", "text 1", "text 2"]
    assert [r.body for r in fake.requests_since(seen + 2)] == ["text 2"]
    assert fake.requests_since(seen + 3) == []
    assert fake.requests_since(seen + 100) == []


def test_a_refused_request_is_listed_as_not_authenticated(fake: FakeTwilioProcess) -> None:
    seen = len(fake.requests_since(0))

    answer = post_message(fake, "wrong token", "not-the-token")

    assert answer.status_code == 401 and answer.json()["code"] == 20003
    [request] = fake.requests_since(seen)
    assert not request.authenticated and request.body == "wrong token"


def test_since_must_be_a_whole_number(fake: FakeTwilioProcess) -> None:
    for since in ("-1", "two", "1.5", "²"):
        assert httpx.get(f"{fake.base_url}/fake/requests?since={since}").status_code == 400


def test_the_process_is_stopped_at_the_end() -> None:
    with serve_fake_twilio_process() as served:
        assert served.process.poll() is None
    assert served.process.poll() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(served.requests_url(), timeout=1)


def post_message(fake: FakeTwilioProcess, body: str, token: str) -> httpx.Response:
    return httpx.post(
        f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json",
        data={"To": TO, "From": FROM, "Body": body},
        auth=(fake.account_sid, token),
        timeout=5,
    )
