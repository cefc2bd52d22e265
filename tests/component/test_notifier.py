"""The notifier on the in-memory broker: a request becomes one message and one outcome."""

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker
from sqlalchemy import select

from shared.events import parse_event, serialize
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.service import Runtime
from shared.topics import Topic
from services.notifier.adapters.tables import deliveries
from services.notifier.app import create_app
from tests.component.conftest import record
from tests.privacy import shows_phone

CASE_ID = "5b0f6a3e-8f0e-4c1e-9d43-1c2b3a4d5e6f"
TENANT = "jo.tenant@example.org"


def request(**changes: object) -> NotificationRequested:
    fields: dict[str, object] = {
        "correlation_id": CASE_ID,
        "case_id": CASE_ID,
        "idempotency_key": f"{CASE_ID}:acknowledgement",
        "purpose": Purpose.ACKNOWLEDGEMENT,
        "template": "acknowledgement",
        "recipient": Recipient(email=TENANT),
        "personalisation": {
            "reference": "HX-ABCD2345",
            "promise": "We will reply to all repair email requests within 3 working days.",
        },
    }
    fields.update(changes)
    return NotificationRequested(**fields)  # type: ignore[arg-type]


async def send(broker, event: NotificationRequested, notifier) -> None:  # type: ignore[no-untyped-def]
    """Publish the request and wait until the notifier has done with it."""
    await broker.publish(serialize(event), str(Topic.NOTIFICATIONS_REQUESTED), key=event.key())
    await notifier.settled()


async def delivery_rows(runtime: Runtime) -> list[dict[str, object]]:
    async with runtime.sessions() as session:
        return [dict(row._mapping) for row in await session.execute(select(deliveries))]


async def test_a_request_is_sent_once_recorded_and_reported(notifier_runtime: Runtime, outbox_dir: Path):
    notifier = create_app(notifier_runtime).state.notifier
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    wanted = request()

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, wanted, notifier)
        assert await notifier_runtime.outbox.relay_pending() == 1

    [eml] = list(outbox_dir.glob("*.eml"))
    mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert mail["To"] == TENANT
    assert "HX-ABCD2345" in mail["Subject"]
    assert "within 3 working days" in mail.get_content()
    assert mail["X-Doorstep-Key"] == wanted.idempotency_key

    [row] = await delivery_rows(notifier_runtime)
    assert row["status"] == "sent"
    assert row["case_id"] == CASE_ID
    assert row["provider_ref"] == f"file:{eml.name}"

    [outcome] = outcomes.records
    sent = parse_event(outcome.body)
    assert sent.event_type == "notification.sent"
    assert sent.idempotency_key == wanted.idempotency_key
    assert sent.correlation_id == wanted.correlation_id
    assert sent.provider_ref == row["provider_ref"]
    assert outcome.key == CASE_ID.encode()
    assert outcome.headers["event_type"] == "notification.sent"
    assert outcome.headers["event_id"] == str(sent.event_id)


async def test_the_same_request_twice_sends_once(notifier_runtime: Runtime, outbox_dir: Path):
    notifier = create_app(notifier_runtime).state.notifier
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, request(), notifier)
        await send(broker, request(), notifier)  # a new event id, the same idempotency key
        await notifier_runtime.outbox.relay_pending()

    assert len(list(outbox_dir.glob("*.eml"))) == 1
    assert len(await delivery_rows(notifier_runtime)) == 1
    assert len(outcomes.records) == 1


async def test_a_redelivered_request_sends_once(notifier_runtime: Runtime, outbox_dir: Path):
    notifier = create_app(notifier_runtime).state.notifier
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    once = request()

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, once, notifier)
        await notifier_runtime.outbox.relay_pending()
        await send(broker, once, notifier)  # the same record again, as after a rebalance
        assert await notifier_runtime.outbox.relay_pending() == 0

    assert len(list(outbox_dir.glob("*.eml"))) == 1
    assert len(outcomes.records) == 1


async def test_different_requests_for_one_case_are_each_sent(notifier_runtime: Runtime, outbox_dir: Path):
    notifier = create_app(notifier_runtime).state.notifier

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, request(idempotency_key=f"{CASE_ID}:acknowledgement"), notifier)
        await send(broker, request(idempotency_key=f"{CASE_ID}:acknowledgement-2"), notifier)

    assert len(list(outbox_dir.glob("*.eml"))) == 2


async def test_an_unknown_template_fails_without_sending(notifier_runtime: Runtime, outbox_dir: Path):
    notifier = create_app(notifier_runtime).state.notifier
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, request(template="no_such_template"), notifier)
        await notifier_runtime.outbox.relay_pending()

    assert not outbox_dir.exists() or not list(outbox_dir.iterdir())
    [row] = await delivery_rows(notifier_runtime)
    assert row["status"] == "failed"
    [outcome] = outcomes.records
    failed = parse_event(outcome.body)
    assert failed.event_type == "notification.failed"
    assert failed.retryable is False
    assert "no_such_template" in failed.reason


async def test_a_template_with_a_missing_value_fails_without_sending(notifier_runtime: Runtime, outbox_dir: Path):
    """The acknowledgement needs a reference; a request without one is not retried forever."""
    notifier = create_app(notifier_runtime).state.notifier
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    dead = record(notifier_runtime.broker, Topic.DLQ_NOTIFIER)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, request(personalisation={"mailbox": "repairs"}), notifier)
        await notifier_runtime.outbox.relay_pending()

    assert not outbox_dir.exists() or not list(outbox_dir.iterdir())
    assert [parse_event(r.body).event_type for r in outcomes.records] == ["notification.failed"]
    assert dead.records == []


async def test_a_recipient_with_neither_a_valid_mobile_nor_an_email_fails_without_sending(
    notifier_runtime: Runtime, outbox_dir: Path
):
    notifier = create_app(notifier_runtime).state.notifier
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, request(recipient=Recipient(phone="020 8778 6699")), notifier)  # a landline
        await notifier_runtime.outbox.relay_pending()

    assert not outbox_dir.exists() or not list(outbox_dir.iterdir())
    [outcome, task] = outcomes.records
    failed = parse_event(outcome.body)
    assert failed.event_type == "notification.failed"
    assert "staff to contact" in failed.reason
    assert "8778" not in json.loads(outcome.body)["reason"]
    raised = parse_event(task.body)
    assert (raised.event_type, raised.task, raised.case_id) == ("staff_task.raised", "contact_tenant", CASE_ID)
    assert not shows_phone(task.body.decode(), "020 8778 6699")


async def test_a_recipient_without_an_email_is_texted_instead(notifier_runtime: Runtime, outbox_dir: Path):
    notifier = create_app(notifier_runtime).state.notifier
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, request(recipient=Recipient(phone="07700 900123")), notifier)
        await notifier_runtime.outbox.relay_pending()

    [text] = list(outbox_dir.glob("*.sms.txt"))
    assert "To: +447700900123" in text.read_text()
    assert "HX-ABCD2345" in text.read_text()
    sent = parse_event(outcomes.records[0].body)
    assert (sent.event_type, sent.channel) == ("notification.sent", "sms")


async def test_outcomes_wait_in_the_outbox_until_relayed(notifier_runtime: Runtime):
    notifier = create_app(notifier_runtime).state.notifier
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, request(), notifier)
        assert outcomes.records == []
        await notifier_runtime.outbox.relay_pending()
        assert len(outcomes.records) == 1
        assert await notifier_runtime.outbox.relay_pending() == 0
    assert len(outcomes.records) == 1


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_email(self, key: str, to: str, message) -> str:  # type: ignore[no-untyped-def]
        self.sent.append((key, to))
        return f"recorded:{len(self.sent)}"


async def test_the_provider_is_called_once_for_a_redelivered_request(notifier_runtime: Runtime):
    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.handlers import Notifier

    sender = RecordingSender()
    notifier = Notifier(notifier_runtime, Templates(), sender, quiet=None)
    create_app(notifier_runtime, notifier)
    dead = record(notifier_runtime.broker, Topic.DLQ_NOTIFIER)
    wanted = request()

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, wanted, notifier)
        await send(broker, wanted, notifier)
        await send(broker, request(event_id=wanted.event_id), notifier)

    assert sender.sent == [(wanted.idempotency_key, TENANT)]
    assert dead.records == []
    [row] = await delivery_rows(notifier_runtime)
    assert row["status"] == "sent"


async def test_a_database_away_after_the_provider_took_the_message_is_waited_for(
    notifier_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
):
    """Not the duplicate window: the process lives, so it keeps trying to record "sent"
    until the database answers, and nothing is sent again."""
    from datetime import timedelta

    from services.notifier import delivery_log
    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.handlers import Notifier

    real_record, refusals = delivery_log.record, []

    async def database_away_twice(*args, **kwargs):  # type: ignore[no-untyped-def]
        if len(refusals) < 2:
            refusals.append(1)
            raise ConnectionRefusedError("the database is away")
        await real_record(*args, **kwargs)

    monkeypatch.setattr(delivery_log, "record", database_away_twice)
    sender = RecordingSender()
    notifier = Notifier(notifier_runtime, Templates(), sender, quiet=None, sending_lease=timedelta(seconds=10))
    await notifier.handle_request(request())
    await notifier.settled()
    await notifier.recover()  # a sweep meanwhile finds nothing to send again
    await notifier.settled()

    assert len(refusals) == 2
    assert len(sender.sent) == 1
    [row] = await delivery_rows(notifier_runtime)
    assert row["status"] == "sent"


async def test_a_request_whose_send_was_interrupted_is_sent_again_after_the_lease(notifier_runtime: Runtime):
    """The documented window: taken for sending, then stopped before recording. Sending
    again is preferred to never sending, but only once the lease is over."""
    from datetime import UTC, datetime, timedelta

    from services.notifier import delivery_log
    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.handlers import SENDING, Notifier

    clock = {"now": datetime(2026, 12, 1, 12, tzinfo=UTC)}
    lease = timedelta(seconds=50)
    wanted = request()
    assert await delivery_log.claim(notifier_runtime, wanted)  # the first process got this far...
    assert await delivery_log.take_for_sending(notifier_runtime, wanted.idempotency_key, clock["now"], lease)
    [row] = await delivery_rows(notifier_runtime)  # ...called the provider, and died
    assert row["status"] == SENDING

    sender = RecordingSender()
    restarted = Notifier(notifier_runtime, Templates(), sender, quiet=None, now=lambda: clock["now"], sending_lease=lease)
    await restarted.handle_request(wanted)  # the request redelivered: its key is taken
    assert await restarted.recover() == 0  # still within the lease: it may be sending elsewhere
    await restarted.settled()
    assert sender.sent == []

    clock["now"] += lease + timedelta(seconds=1)
    assert await restarted.recover() == 1
    await restarted.settled()
    assert await restarted.recover() == 0
    await restarted.handle_request(wanted)
    await restarted.settled()

    assert len(sender.sent) == 1
    [row] = await delivery_rows(notifier_runtime)
    assert row["status"] == "sent"


async def test_a_request_claimed_but_not_yet_sent_is_sent_once_after_a_restart(notifier_runtime: Runtime):
    from services.notifier import delivery_log
    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.handlers import Notifier

    wanted = request()
    assert await delivery_log.claim(notifier_runtime, wanted)  # the process stopped in its queue

    sender = RecordingSender()
    restarted = Notifier(notifier_runtime, Templates(), sender, quiet=None)
    assert await restarted.recover() == 1
    assert await restarted.recover() == 0  # already on its way: not queued twice
    await restarted.settled()
    await restarted.handle_request(wanted)
    await restarted.settled()

    assert sender.sent == [(wanted.idempotency_key, TENANT)]


class RefusingSms:
    def __init__(self) -> None:
        self.tried = 0

    async def send_sms(self, key: str, to_e164: str, body: str) -> str:
        from services.notifier.adapters.errors import PermanentSendError

        self.tried += 1
        raise PermanentSendError(21610, "the recipient has unsubscribed from texts", recipient=True)


async def test_a_text_refused_for_good_falls_back_to_email(notifier_runtime: Runtime):
    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.handlers import Notifier

    email, sms = RecordingSender(), RefusingSms()
    notifier = Notifier(notifier_runtime, Templates(), email, sms, quiet=None)
    create_app(notifier_runtime, notifier)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    reminder = request(
        purpose=Purpose.APPOINTMENT_REMINDER,  # texts first
        recipient=Recipient(email=TENANT, phone="07700 900123"),
    )

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, reminder, notifier)
        await notifier_runtime.outbox.relay_pending()

    assert sms.tried == 1
    assert email.sent == [(reminder.idempotency_key, TENANT)]
    sent = parse_event(outcomes.records[0].body)
    assert (sent.event_type, sent.channel) == ("notification.sent", "email")


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_sms(self, key: str, to_e164: str, body: str) -> str:
        self.sent.append((key, to_e164))
        return f"SM{len(self.sent)}"


async def test_a_routine_text_waits_out_quiet_hours_and_then_goes_once(notifier_runtime: Runtime):
    from datetime import UTC, datetime

    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.domain.quiet_hours import QuietHours
    from services.notifier.handlers import Notifier

    clock = {"now": datetime(2026, 12, 6, 23, 0, tzinfo=UTC)}  # a Sunday night
    sms = RecordingSms()
    notifier = Notifier(
        notifier_runtime, Templates(), RecordingSender(), sms, quiet=QuietHours(), now=lambda: clock["now"]
    )
    reminder = request(purpose=Purpose.APPOINTMENT_REMINDER, recipient=Recipient(phone="07700 900123"))

    await notifier.handle_request(reminder)
    await notifier.settled()
    assert sms.sent == []
    assert (await delivery_rows(notifier_runtime))[0]["status"] == "held"
    assert await notifier.send_held() == 0  # still quiet

    clock["now"] = datetime(2026, 12, 7, 8, 1, tzinfo=UTC)  # Monday, 08:01
    assert await notifier.send_held() == 1
    await notifier.settled()
    await notifier.handle_request(reminder)
    await notifier.settled()  # a redelivery changes nothing
    assert await notifier.send_held() == 0
    assert sms.sent == [(f"{reminder.idempotency_key}:sms", "+447700900123")]
    assert (await delivery_rows(notifier_runtime))[0]["status"] == "sent"


async def test_an_email_is_not_held_at_night(notifier_runtime: Runtime):
    from datetime import UTC, datetime

    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.domain.quiet_hours import QuietHours
    from services.notifier.handlers import Notifier

    email = RecordingSender()
    notifier = Notifier(
        notifier_runtime, Templates(), email, RecordingSms(), quiet=QuietHours(),
        now=lambda: datetime(2026, 12, 6, 23, 0, tzinfo=UTC),
    )
    await notifier.handle_request(request())
    await notifier.settled()
    assert len(email.sent) == 1


async def test_a_survey_in_quiet_hours_goes_by_email_at_once_and_by_text_in_the_day(notifier_runtime: Runtime):
    """Promised within 24 hours: after a repair finished on a Sunday night the text would
    wait until Monday 08:00, so the email goes now; in the day it is texted as usual."""
    from datetime import UTC, datetime

    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.domain.quiet_hours import QuietHours
    from services.notifier.handlers import Notifier

    clock = {"now": datetime(2026, 12, 6, 3, 0, tzinfo=UTC)}  # a Sunday, 03:00
    email, sms = RecordingSender(), RecordingSms()
    notifier = Notifier(notifier_runtime, Templates(), email, sms, quiet=QuietHours(), now=lambda: clock["now"])
    both = Recipient(email=TENANT, phone="07700 900123")
    survey = request(
        purpose=Purpose.SATISFACTION_SURVEY, template="satisfaction_survey", recipient=both,
        idempotency_key="satisfaction_survey:appt-1", personalisation={"reference": "HX-ABCD2345"},
    )

    await notifier.handle_request(survey)
    await notifier.settled()
    assert [key for key, _ in email.sent] == [survey.idempotency_key]
    assert sms.sent == []
    assert (await delivery_rows(notifier_runtime))[0]["status"] == "sent"

    # A reminder at the same hour still waits for the morning: it is not promised by the hour.
    reminder = request(purpose=Purpose.APPOINTMENT_REMINDER, recipient=both, idempotency_key="reminder:appt-1")
    await notifier.handle_request(reminder)
    await notifier.settled()
    assert len(email.sent) == 1 and sms.sent == []

    clock["now"] = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # Monday morning
    in_the_day = survey.model_copy(update={"idempotency_key": "satisfaction_survey:appt-2"})
    await notifier.handle_request(in_the_day)
    await notifier.settled()
    assert sms.sent == [(f"{in_the_day.idempotency_key}:sms", "+447700900123")]


async def test_a_safeguarding_case_gets_only_the_neutral_message(notifier_runtime: Runtime, outbox_dir: Path):
    notifier = create_app(notifier_runtime).state.notifier
    flagged = request(safeguarding=True, personalisation={"reference": "HX-ABCD2345", "promise": "about your visit"})

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await send(broker, flagged, notifier)

    [eml] = list(outbox_dir.glob("*.eml"))
    text = eml.read_text()
    assert "HX-ABCD2345" not in text
    assert "about your visit" not in text
    assert "0800 393 338" in text


async def test_a_reminder_for_a_cancelled_or_moved_appointment_is_dropped_not_sent(notifier_runtime: Runtime):
    from datetime import UTC, datetime, timedelta

    from shared.events.appointments import AppointmentBooked, AppointmentCancelled, AppointmentKind
    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.handlers import Notifier

    sms = RecordingSms()
    notifier = Notifier(notifier_runtime, Templates(), RecordingSender(), sms, quiet=None)
    starts = datetime(2026, 12, 7, 9, tzinfo=UTC)
    case = {"correlation_id": CASE_ID, "case_id": CASE_ID, "reference": "HX-ABCD2345"}
    for appointment_id in ("A-cancelled", "A-moved", "A-kept"):
        await notifier.appointment_booked(
            AppointmentBooked(
                appointment_id=appointment_id, kind=AppointmentKind.REPAIR, starts_at=starts,
                ends_at=starts + timedelta(hours=3), booked_at=starts - timedelta(days=7), **case,
            )
        )
    await notifier.appointment_cancelled(
        AppointmentCancelled(appointment_id="A-cancelled", kind=AppointmentKind.REPAIR, cancelled_at=starts, **case)
    )
    await notifier.appointment_booked(
        AppointmentBooked(
            appointment_id="A-moved", kind=AppointmentKind.REPAIR, starts_at=starts + timedelta(days=2),
            ends_at=starts + timedelta(days=2, hours=3), booked_at=starts, **case,
        )
    )

    def reminder(appointment_id: str) -> NotificationRequested:
        return request(
            purpose=Purpose.APPOINTMENT_REMINDER,
            idempotency_key=f"{appointment_id}:reminder",
            appointment_id=appointment_id,
            appointment_starts_at=starts,
            recipient=Recipient(phone="07700 900123"),
        )

    for appointment_id in ("A-cancelled", "A-moved", "A-kept"):
        await notifier.handle_request(reminder(appointment_id))
        await notifier.settled()

    assert [key for key, _ in sms.sent] == ["A-kept:reminder:sms"]
    statuses = {row["idempotency_key"]: row["status"] for row in await delivery_rows(notifier_runtime)}
    assert statuses == {"A-cancelled:reminder": "failed", "A-moved:reminder": "failed", "A-kept:reminder": "sent"}


class UnavailableSms:
    def __init__(self) -> None:
        self.tried = 0

    async def send_sms(self, key: str, to_e164: str, body: str) -> str:
        from services.notifier.adapters.errors import RetryableSendError

        self.tried += 1
        raise RetryableSendError(503, "the provider is unavailable")


async def test_a_provider_that_stays_down_is_retried_with_growing_pauses_then_given_up(notifier_runtime: Runtime):
    from datetime import UTC, datetime, timedelta

    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.handlers import MAX_TRIES, Notifier, retry_pause

    clock = {"now": datetime(2026, 12, 1, 12, tzinfo=UTC)}
    sms = UnavailableSms()
    notifier = Notifier(
        notifier_runtime, Templates(), RecordingSender(), sms, quiet=None, now=lambda: clock["now"]
    )
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    reminder = request(purpose=Purpose.ON_THE_WAY, recipient=Recipient(phone="07700 900123"))

    async with TestKafkaBroker(notifier_runtime.broker):
        await notifier.handle_request(reminder)
        await notifier.settled()
        for tries in range(1, MAX_TRIES):
            assert (await delivery_rows(notifier_runtime))[0]["status"] == "held"
            clock["now"] += retry_pause(tries) - timedelta(seconds=1)
            assert await notifier.send_held() == 0  # not yet
            clock["now"] += timedelta(seconds=1)
            assert await notifier.send_held() == 1
            await notifier.settled()
        await notifier_runtime.outbox.relay_pending()

    assert sms.tried == MAX_TRIES
    [row] = await delivery_rows(notifier_runtime)
    assert (row["status"], row["attempts"]) == ("failed", MAX_TRIES)
    [failed] = [parse_event(r.body) for r in outcomes.records]
    assert failed.event_type == "notification.failed"
    assert failed.reason.startswith(f"gave up after {MAX_TRIES} tries")


def test_pauses_between_tries_grow_and_are_capped():
    from datetime import timedelta

    from services.notifier.handlers import retry_pause

    assert [retry_pause(n) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (30, 60, 120)]
    assert retry_pause(10) == timedelta(minutes=15)


class BrokenEmail:
    """A transport that fails outside the exception tree, naming the tenant in its text."""

    def __init__(self) -> None:
        self.tried = 0

    async def send_email(self, key: str, to: str, message) -> str:  # type: ignore[no-untyped-def]
        self.tried += 1
        raise ConnectionResetError(f"connection reset while sending to {to}")


async def test_an_unexpected_transport_failure_is_a_try_and_gives_up_after_the_cap(notifier_runtime: Runtime):
    from datetime import UTC, datetime, timedelta

    from services.notifier.adapters.jinja_templates import Templates
    from services.notifier.handlers import MAX_TRIES, Notifier

    clock = {"now": datetime(2026, 12, 1, 12, tzinfo=UTC)}
    email = BrokenEmail()
    notifier = Notifier(notifier_runtime, Templates(), email, quiet=None, now=lambda: clock["now"])
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker):
        await notifier.handle_request(request())
        await notifier.settled()
        for _ in range(MAX_TRIES - 1):
            assert (await delivery_rows(notifier_runtime))[0]["status"] == "held"
            clock["now"] += timedelta(minutes=15)
            assert await notifier.send_held() == 1
            await notifier.settled()
        assert await notifier.recover() == 0  # nothing left to take up again
        await notifier_runtime.outbox.relay_pending()

    assert email.tried == MAX_TRIES
    [failed] = [parse_event(r.body) for r in outcomes.records]
    assert failed.reason == f"gave up after {MAX_TRIES} tries: unexpected failure sending by email: ConnectionResetError"
    assert TENANT not in failed.reason
