"""What a consumer cannot read or handle goes to its dead-letter topic with the reason,
and the consumer moves on (DESIGN §3). Shown through the notifier's consumer, which is
wired by `shared.kafka.subscribe` like every other."""

from pathlib import Path

from faststream.kafka import TestKafkaBroker

from shared.events import parse_event, serialize
from shared.events.notifications import NotificationFailed, NotificationRequested, Purpose, Recipient
from shared.service import Runtime
from shared.topics import Topic
from services.notifier.app import create_app
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.domain.messages import EmailMessageText
from services.notifier.handlers import Notifier
from tests.component.conftest import ATTEMPTS, record

CASE_ID = "5b0f6a3e-8f0e-4c1e-9d43-1c2b3a4d5e6f"
TENANT = "jo.tenant@example.org"
REQUESTED = str(Topic.NOTIFICATIONS_REQUESTED)


def request(key: str = "acknowledgement") -> NotificationRequested:
    return NotificationRequested(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        idempotency_key=f"{CASE_ID}:{key}",
        purpose=Purpose.ACKNOWLEDGEMENT,
        template="acknowledgement",
        recipient=Recipient(email=TENANT),
        personalisation={"reference": "HX-ABCD2345", "mailbox": "repairs"},
    )


def sent_files(outbox_dir: Path) -> list[Path]:
    return sorted(outbox_dir.glob("*.eml")) if outbox_dir.exists() else []


async def test_poison_bytes_are_dead_lettered_with_their_reason(notifier_runtime: Runtime):
    create_app(notifier_runtime)
    dead = record(notifier_runtime.broker, Topic.DLQ_NOTIFIER)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await broker.publish(b"{not json at all", REQUESTED, key=b"poison-1")

    [letter] = dead.records
    assert letter.body == b"{not json at all"  # the message itself, for someone to look at
    assert letter.key == b"poison-1"
    assert letter.headers["dlq_topic"] == REQUESTED
    assert letter.headers["dlq_reason"].startswith("unreadable event: ")
    assert "Invalid JSON" in letter.headers["dlq_reason"]
    assert letter.headers["dlq_partition"].isdigit()
    assert letter.headers["dlq_offset"].isdigit()


async def test_an_unknown_event_type_is_dead_lettered(notifier_runtime: Runtime):
    create_app(notifier_runtime)
    dead = record(notifier_runtime.broker, Topic.DLQ_NOTIFIER)
    unknown = serialize(request()).replace(b'"notification.requested"', b'"notification.exploded"')

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await broker.publish(unknown, REQUESTED, key=CASE_ID.encode())

    [letter] = dead.records
    assert letter.body == unknown
    assert letter.headers["dlq_topic"] == REQUESTED
    assert "event_type" in letter.headers["dlq_reason"]


async def test_a_known_event_the_consumer_does_not_want_is_skipped_not_dead_lettered(
    notifier_runtime: Runtime, outbox_dir: Path
):
    create_app(notifier_runtime)
    dead = record(notifier_runtime.broker, Topic.DLQ_NOTIFIER)
    other = NotificationFailed(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        idempotency_key="k",
        purpose="acknowledgement",
        reason="r",
        retryable=False,
    )
    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await broker.publish(serialize(other), REQUESTED, key=CASE_ID.encode())

    assert dead.records == []
    assert sent_files(outbox_dir) == []


async def test_the_consumer_keeps_working_after_poison(notifier_runtime: Runtime, outbox_dir: Path):
    app = create_app(notifier_runtime)
    dead = record(notifier_runtime.broker, Topic.DLQ_NOTIFIER)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await broker.publish(b"\xff\xfe garbage", REQUESTED, key=b"poison-2")
        await broker.publish(b'{"event_type": "notification.exploded"}', REQUESTED, key=b"poison-3")
        good = request()
        await broker.publish(serialize(good), REQUESTED, key=good.key())
        await app.state.notifier.settled()

    assert [letter.key for letter in dead.records] == [b"poison-2", b"poison-3"]
    [eml] = sent_files(outbox_dir)
    assert TENANT in eml.read_text()


class FailingNotifier(Notifier):
    """A notifier whose claim fails (its database refusing), `failures` times or always,
    for the keys in `refused` (all when empty): the consumer sees the failure."""

    def __init__(self, runtime: Runtime, failures: int | None = None, refused: tuple[str, ...] = ()) -> None:
        super().__init__(runtime, Templates(), RecordingEmail(), quiet=None)
        self.failures, self.refused, self.calls = failures, refused, 0

    async def _claim(self, request: NotificationRequested, keep_contact: bool):  # type: ignore[no-untyped-def]
        self.calls += 1
        refusing = not self.refused or request.idempotency_key in self.refused
        if refusing and (self.failures is None or self.calls <= self.failures):
            raise ConnectionRefusedError(f"database refused the claim for {TENANT}")
        return await super()._claim(request, keep_contact)


class RecordingEmail:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_email(self, key: str, to: str, message: EmailMessageText) -> str:
        self.sent.append(key)
        return f"relay:{len(self.sent)}"


async def test_a_handler_that_always_fails_is_dead_lettered_after_its_attempts(notifier_runtime: Runtime):
    notifier = FailingNotifier(notifier_runtime)
    create_app(notifier_runtime, notifier)
    dead = record(notifier_runtime.broker, Topic.DLQ_NOTIFIER)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    failing = request()

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await broker.publish(serialize(failing), REQUESTED, key=failing.key())
        await notifier.settled()
        await notifier_runtime.outbox.relay_pending()

    assert notifier.calls == ATTEMPTS
    [letter] = dead.records
    assert letter.body == serialize(failing)
    assert letter.key == CASE_ID.encode()
    reason = letter.headers["dlq_reason"]
    assert reason == f"handler failed {ATTEMPTS} times: ConnectionRefusedError"
    assert TENANT not in reason  # the exception's text, which names the tenant, stays out
    assert outcomes.records == []


async def test_a_handler_that_fails_once_is_retried_and_not_dead_lettered(
    notifier_runtime: Runtime,
):
    notifier = FailingNotifier(notifier_runtime, failures=1)
    create_app(notifier_runtime, notifier)
    dead = record(notifier_runtime.broker, Topic.DLQ_NOTIFIER)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        good = request()
        await broker.publish(serialize(good), REQUESTED, key=good.key())
        await notifier.settled()
        await notifier_runtime.outbox.relay_pending()

    assert notifier.calls == 2
    assert dead.records == []
    assert [r.headers["event_type"] for r in outcomes.records] == ["notification.sent"]


async def test_the_consumer_keeps_working_after_a_dead_lettered_failure(notifier_runtime: Runtime):
    first, second = request("first"), request("second")
    notifier = FailingNotifier(notifier_runtime, refused=(first.idempotency_key,))
    create_app(notifier_runtime, notifier)
    dead = record(notifier_runtime.broker, Topic.DLQ_NOTIFIER)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await broker.publish(serialize(first), REQUESTED, key=first.key())
        await broker.publish(serialize(second), REQUESTED, key=second.key())
        await notifier.settled()
        await notifier_runtime.outbox.relay_pending()

    assert [r.body for r in dead.records] == [serialize(first)]
    [sent] = outcomes.records
    assert parse_event(sent.body).idempotency_key == second.idempotency_key
