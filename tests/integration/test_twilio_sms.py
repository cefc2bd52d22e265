"""The real twilio SDK, with its aiohttp client, against the fake Messages API over real
HTTP on 127.0.0.1: what is sent, and how each refusal comes back."""

import socket
import time
from collections.abc import AsyncIterator

import pytest
from twilio.request_validator import RequestValidator

from services.notifier.adapters.errors import (
    PermanentSendError,
    RetryableSendError,
    SenderAuthError,
)
from services.notifier.adapters.twilio_sms import TwilioSmsSender
from tests.fakes.twilio_api import FakeTwilio, fake_twilio  # noqa: F401 - a fixture

TO = "+447700900123"
FROM = "Hexagon"
CALLBACK = "https://notifier.example.org/twilio/status"
BODY = "Your repair appointment is tomorrow, 8am to 12pm. Reply CONFIRM or REARRANGE."


def sender_for(fake: FakeTwilio, **overrides: object) -> TwilioSmsSender:
    options: dict[str, object] = {
        "account_sid": fake.account_sid,
        "auth_token": fake.auth_token,
        "from_": FROM,
        "status_callback_url": CALLBACK,
        "base_url": fake.base_url,
        "timeout": 5,
    }
    options.update(overrides)
    return TwilioSmsSender(**options)  # type: ignore[arg-type]


@pytest.fixture
async def sender(fake_twilio: FakeTwilio) -> AsyncIterator[TwilioSmsSender]:  # noqa: F811
    sms = sender_for(fake_twilio)
    yield sms
    await sms.aclose()


async def test_a_message_is_sent_with_its_status_callback(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
) -> None:
    sid = await sender.send_sms("key-1", TO, BODY)

    assert sid.startswith("SM") and len(sid) == 34
    [request] = fake_twilio.requests
    assert request.authenticated
    assert request.account_sid == fake_twilio.account_sid
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert (request.to, request.from_, request.body) == (TO, FROM, BODY)
    assert request.status_callback == CALLBACK
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["user-agent"].startswith("twilio-python/")
    assert fake_twilio.messages[sid]["status"] == "queued"


async def test_every_message_carries_the_status_callback(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
) -> None:
    sids = [await sender.send_sms(f"key-{n}", TO, f"{BODY} {n}") for n in range(3)]

    assert len(set(sids)) == 3
    assert [r.status_callback for r in fake_twilio.requests] == [CALLBACK] * 3
    assert set(fake_twilio.messages) == set(sids)


async def test_a_unicode_body_arrives_intact(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
) -> None:
    body = "Gas check due: £0 — book now 🙂 Ł"
    await sender.send_sms("key-u", TO, body)
    assert fake_twilio.requests[0].body == body


async def test_refused_credentials_are_a_permanent_auth_error(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    sms = sender_for(fake_twilio, auth_token="not-the-token")
    try:
        with pytest.raises(SenderAuthError) as refused:
            await sms.send_sms("key-auth", TO, BODY)
    finally:
        await sms.aclose()

    assert isinstance(refused.value, PermanentSendError)
    assert refused.value.code == 20003
    assert not refused.value.retryable
    assert not refused.value.recipient
    assert "credentials" in refused.value.reason
    [request] = fake_twilio.requests
    assert not request.authenticated
    assert fake_twilio.messages == {}


async def test_an_invalid_number_is_permanent_and_names_no_number(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
) -> None:
    fake_twilio.invalid_number(TO)

    with pytest.raises(PermanentSendError) as refused:
        await sender.send_sms("key-21211", TO, BODY)

    error = refused.value
    assert error.code == 21211
    assert error.recipient and not error.retryable
    assert not isinstance(error, SenderAuthError)
    # Twilio's own message quotes the number; none of it may travel on.
    for text in (str(error), error.reason, repr(error)):
        assert "7700" not in text and BODY not in text
    assert error.__cause__ is None and error.__context__ is None


async def test_an_unsubscribed_recipient_is_permanent(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
) -> None:
    fake_twilio.unsubscribed(TO)

    with pytest.raises(PermanentSendError) as refused:
        await sender.send_sms("key-21610", TO, BODY)

    assert refused.value.code == 21610
    assert refused.value.recipient
    assert "unsubscribed" in refused.value.reason


async def test_another_number_is_unaffected_by_a_refusal(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
) -> None:
    fake_twilio.invalid_number(TO)
    assert (await sender.send_sms("key-other", "+447911123456", BODY)).startswith("SM")


@pytest.mark.parametrize(
    ("arrange", "code"),
    [
        (lambda fake: fake.server_error(), 20500),
        (lambda fake: fake.rate_limited(), 20429),
        (lambda fake: fake.refuse(TO, 503, 20503, "Service unavailable"), 20503),
    ],
    ids=["500", "429", "503"],
)
async def test_server_errors_and_rate_limits_are_retryable(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
    arrange,
    code: int,
) -> None:
    arrange(fake_twilio)

    with pytest.raises(RetryableSendError) as refused:
        await sender.send_sms("key-retry", TO, BODY)

    assert refused.value.code == code
    assert refused.value.retryable
    assert "7700" not in str(refused.value)


async def test_a_retry_after_a_transient_error_is_sent(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
) -> None:
    fake_twilio.server_error(times=1)

    with pytest.raises(RetryableSendError):
        await sender.send_sms("key-again", TO, BODY)
    sid = await sender.send_sms("key-again", TO, BODY)

    assert sid in fake_twilio.messages
    assert len(fake_twilio.requests) == 2  # the SDK itself does not retry


async def test_a_server_that_never_answers_is_retryable_within_the_timeout(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    fake_twilio.hang()
    sms = sender_for(fake_twilio, timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(RetryableSendError) as refused:
            await sms.send_sms("key-hang", TO, BODY)
    finally:
        await sms.aclose()

    assert time.monotonic() - started < 2
    assert refused.value.code == "timeout"
    assert len(fake_twilio.requests) == 1  # it arrived; no answer came back


async def test_a_closed_port_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    sms = TwilioSmsSender(
        "AC" + "0" * 32, "token", FROM, CALLBACK, base_url=f"http://127.0.0.1:{port}", timeout=2
    )
    try:
        with pytest.raises(RetryableSendError) as refused:
            await sms.send_sms("key-closed", TO, BODY)
    finally:
        await sms.aclose()
    assert refused.value.code == "connection"


async def test_a_number_not_in_e164_form_is_refused_before_any_call(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
) -> None:
    with pytest.raises(PermanentSendError) as refused:
        await sender.send_sms("key-raw", "07700 900123", BODY)

    assert refused.value.recipient
    assert "7700" not in str(refused.value)
    assert fake_twilio.requests == []


async def test_the_fake_signs_status_callbacks_as_twilio_does(
    fake_twilio: FakeTwilio,  # noqa: F811
    sender: TwilioSmsSender,
) -> None:
    sid = await sender.send_sms("key-cb", TO, BODY)

    callback = fake_twilio.status_callback(sid, "delivered")

    assert callback.url == CALLBACK
    assert callback.form["MessageSid"] == sid and callback.form["MessageStatus"] == "delivered"
    validator = RequestValidator(fake_twilio.auth_token)
    assert validator.validate(callback.url, callback.form, callback.headers["X-Twilio-Signature"])
    assert not RequestValidator("another-token").validate(
        callback.url, callback.form, callback.headers["X-Twilio-Signature"]
    )
