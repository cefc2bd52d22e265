"""Forged calls to the notifier's Twilio webhooks, against the notifier as a process on the
real broker: each sample in tests/corpus/twilio/manifest.toml gets its status (403 unless
Twilio's signature is right), and a forged STOP stops nothing."""

import tomllib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from twilio.request_validator import RequestValidator

from services.cli.processes import NotReady, start, stop_all, wait_ready
from shared.events import serialize
from shared.events.notifications import NotificationRequested, Recipient
from shared.topics import Topic
from tests.e2e.system import service_env
from tests.kafka_reader import TopicReader, event_is

pytestmark = pytest.mark.kafka

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "twilio"
AUTH_TOKEN = "e2e-twilio-auth-token"
OTHER_TOKEN = "another-accounts-auth-token"
PATHS = {"status": "/v1/twilio/status", "inbound": "/v1/twilio/inbound"}
FORGED_STOP_FROM = "+447700900123"


def samples() -> list[dict]:
    return tomllib.loads((CORPUS / "manifest.toml").read_text())["sample"]


@pytest.fixture(scope="module")
def notifier_url(kafka_bootstrap: str, tmp_path_factory) -> Iterator[str]:
    """The notifier alone, with a Twilio auth token, so its webhooks check signatures."""
    workdir = tmp_path_factory.mktemp("twilio")
    env, system = service_env(kafka_bootstrap, workdir)
    base = f"http://127.0.0.1:{system.ports['notifier']}"
    env |= {
        "NOTIFIER_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "NOTIFIER_STATUS_CALLBACK_URL": base + PATHS["status"],
        "NOTIFIER_INBOUND_SMS_URL": base + PATHS["inbound"],
    }
    with (workdir / "notifier.log").open("wb") as log:
        children = {"notifier": start("notifier", env, log)}
        try:
            wait_ready(children, system.ports, timeout=90)
        except NotReady as problem:
            stop_all(children)
            raise RuntimeError(f"{problem}\n{(workdir / 'notifier.log').read_text()[-3000:]}") from None
        try:
            yield base
        finally:
            stop_all(children)
            assert children["notifier"].returncode in (0, -15), "the notifier did not stop cleanly"


def signed_call(base: str, sample: dict) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL to post to, the form and the headers, made as the sample says."""
    endpoint, form, how = sample["endpoint"], dict(sample["form"]), sample["signature"]
    url = base + PATHS[endpoint]
    signed_url = base + PATHS["status" if endpoint == "inbound" else "inbound"] if how == "other_url" else url
    token = OTHER_TOKEN if how == "wrong_token" else AUTH_TOKEN
    signature = RequestValidator(token).compute_signature(signed_url, form)
    if how == "tampered":
        form |= sample["tamper"]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = {"missing": None, "empty": "", "garbage": "not base64 at all!"}
    if how not in forged:
        headers["X-Twilio-Signature"] = signature
    elif forged[how] is not None:
        headers["X-Twilio-Signature"] = forged[how]
    return url, form, headers


def test_the_manifest_covers_both_doors_and_every_forgery():
    listed = samples()
    assert {s["endpoint"] for s in listed} == set(PATHS)
    assert {s["signature"] for s in listed} == {
        "valid", "missing", "empty", "garbage", "wrong_token", "other_url", "tampered"
    }
    assert all(s["status"] == 403 for s in listed if s["signature"] != "valid")


@pytest.mark.parametrize("sample", samples(), ids=lambda s: s["name"])
def test_each_call_gets_its_expected_status(notifier_url: str, sample: dict):
    url, form, headers = signed_call(notifier_url, sample)
    response = httpx.post(url, content=urlencode(form), headers=headers, timeout=10)
    assert response.status_code == sample["status"], response.text
    if response.status_code == 403:
        assert response.content == b""  # nothing about why, to whoever forged it
    if sample["endpoint"] == "inbound" and sample["status"] == 200:
        assert response.headers["content-type"].startswith("application/xml")
        assert "<Response>" in response.text


async def test_a_forged_stop_does_not_stop_texts(notifier_url: str, kafka_bootstrap: str):
    for sample in samples():
        if sample["endpoint"] == "inbound" and sample["form"].get("Body") == "STOP":
            url, form, headers = signed_call(notifier_url, sample)
            assert httpx.post(url, content=urlencode(form), headers=headers, timeout=10).status_code == 403

    case_id = f"forged-stop-{uuid4().hex[:8]}"
    request = NotificationRequested(
        correlation_id=case_id, case_id=case_id, idempotency_key=f"{case_id}:acknowledgement",
        purpose="acknowledgement", template="acknowledgement", urgent=True,
        recipient=Recipient(phone=FORGED_STOP_FROM),
        personalisation={"reference": "HX-FORGED01", "promise": "We reply within 3 working days."},
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(Topic.NOTIFICATIONS_REQUESTED, serialize(request), key=request.key())
    finally:
        await producer.stop()
    async with TopicReader(kafka_bootstrap, Topic.NOTIFICATIONS_OUTCOMES) as outcomes:
        outcome = await outcomes.wait_for(
            lambda s: event_is("notification.sent", case_id=case_id)(s) or event_is("notification.failed", case_id=case_id)(s),
            timeout=60,
        )
    assert outcome.json()["event_type"] == "notification.sent"
    assert outcome.json()["channel"] == "sms"
