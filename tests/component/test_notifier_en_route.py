"""The contractor pressed "on the way": the tenant is texted at once, at the contact
the notifier keeps for the case, once per appointment; a moved appointment's reminder
is dropped."""

from datetime import UTC, datetime, timedelta

from faststream.kafka import TestKafkaBroker

from shared.events import parse_event, serialize
from shared.events.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentKind,
    AppointmentRescheduled,
    ContractorEnRoute,
)
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.service import Runtime
from shared.topics import Topic
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.app import create_app
from services.notifier.domain.quiet_hours import QuietHours
from services.notifier.handlers import Notifier
from tests.component.conftest import record
from tests.component.test_notifier import RecordingSender, delivery_rows

CASE_ID = "case-boiler-1"
STARTS = datetime(2026, 12, 7, 9, tzinfo=UTC)
CASE = {"correlation_id": CASE_ID, "case_id": CASE_ID, "reference": "HX-BOIL0001"}


class BodySms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send_sms(self, key: str, to_e164: str, body: str) -> str:
        self.sent.append((key, to_e164, body))
        return f"SM{len(self.sent)}"


def confirmation(**changes: object) -> NotificationRequested:
    fields: dict[str, object] = {
        "correlation_id": CASE_ID,
        "case_id": CASE_ID,
        "appointment_id": "A1",
        "idempotency_key": "A1:appointment_confirmation",
        "purpose": Purpose.APPOINTMENT_CONFIRMATION,
        "template": "appointment_confirmation",
        "recipient": Recipient(phone="07700 900123", email="jo@example.org"),
        "personalisation": {
            "reference": "HX-BOIL0001",
            "appointment_date": "Monday 7 December",
            "appointment_time": "9am to 12pm",
        },
    }
    fields.update(changes)
    return NotificationRequested(**fields)  # type: ignore[arg-type]


def en_route(appointment_id: str = "A1", starts_at: datetime = STARTS, case: dict | None = None) -> ContractorEnRoute:
    return ContractorEnRoute(
        appointment_id=appointment_id, kind=AppointmentKind.REPAIR, starts_at=starts_at,
        contractor_name="Sam from Fixit", at=starts_at - timedelta(minutes=20), **(case or CASE),
    )


def booked(appointment_id: str = "A1") -> AppointmentBooked:
    return AppointmentBooked(
        appointment_id=appointment_id, kind=AppointmentKind.REPAIR, starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=3), booked_at=STARTS - timedelta(days=3), **CASE,
    )


def notifier_for(runtime: Runtime, sms: BodySms, **options: object) -> Notifier:
    return Notifier(runtime, Templates(), RecordingSender(), sms, quiet=None, **options)  # type: ignore[arg-type]


async def test_on_the_way_goes_to_the_mobile_the_case_was_last_reached_on(notifier_runtime: Runtime):
    sms = BodySms()
    notifier = notifier_for(notifier_runtime, sms)
    app = create_app(notifier_runtime, notifier)
    assert app.state.notifier is notifier
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        await broker.publish(serialize(confirmation()), str(Topic.NOTIFICATIONS_REQUESTED), key=CASE_ID.encode())
        await broker.publish(serialize(booked()), str(Topic.APPOINTMENTS), key=CASE_ID.encode())
        await notifier.settled()
        await broker.publish(serialize(en_route()), str(Topic.APPOINTMENTS), key=CASE_ID.encode())
        await broker.publish(serialize(en_route()), str(Topic.APPOINTMENTS), key=CASE_ID.encode())  # pressed twice
        await notifier.settled()
        await notifier_runtime.outbox.relay_pending()

    [(_, _, _), (key, to, body)] = sms.sent
    assert key == f"A1:on_the_way:{STARTS.isoformat()}:sms"
    assert to == "+447700900123"
    assert "Sam from Fixit is on the way" in body and "HX-BOIL0001" in body
    sent = [parse_event(r.body) for r in outcomes.of_type("notification.sent")]
    assert [(s.purpose, s.appointment_id) for s in sent] == [("appointment_confirmation", "A1"), ("on_the_way", "A1")]


async def test_on_the_way_ignores_quiet_hours(notifier_runtime: Runtime):
    sms = BodySms()
    sunday_night = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)
    notifier = notifier_for(notifier_runtime, sms, now=lambda: sunday_night)
    notifier.quiet = QuietHours()
    await notifier.handle_request(confirmation(urgent=True))  # goes: urgent
    await notifier.contractor_en_route(en_route(starts_at=sunday_night + timedelta(minutes=30)))
    await notifier.settled()
    assert [key.split(":")[1] for key, _, _ in sms.sent] == ["appointment_confirmation", "on_the_way"]


async def test_with_no_contact_known_the_text_fails_and_staff_are_asked_to_call(notifier_runtime: Runtime):
    sms = BodySms()
    notifier = notifier_for(notifier_runtime, sms)
    create_app(notifier_runtime, notifier)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    unknown = {**CASE, "case_id": "case-never-heard-of", "correlation_id": "case-never-heard-of"}

    async with TestKafkaBroker(notifier_runtime.broker):
        await notifier.contractor_en_route(en_route(case=unknown))
        await notifier.contractor_en_route(en_route(case=unknown))  # redelivered
        await notifier.settled()
        await notifier_runtime.outbox.relay_pending()

    assert sms.sent == []
    [failed, task] = [parse_event(r.body) for r in outcomes.records]
    assert (failed.event_type, failed.purpose, failed.case_id) == ("notification.failed", "on_the_way", "case-never-heard-of")
    assert "staff to contact" in failed.reason
    assert (task.event_type, task.task, task.appointment_id) == ("staff_task.raised", "contact_tenant", "A1")


async def test_on_the_way_for_a_cancelled_appointment_is_dropped(notifier_runtime: Runtime):
    sms = BodySms()
    notifier = notifier_for(notifier_runtime, sms)
    await notifier.handle_request(confirmation())
    await notifier.appointment_booked(booked())
    await notifier.appointment_cancelled(
        AppointmentCancelled(appointment_id="A1", kind=AppointmentKind.REPAIR, cancelled_at=STARTS, **CASE)
    )
    await notifier.contractor_en_route(en_route())
    await notifier.settled()

    assert [key.split(":")[1] for key, _, _ in sms.sent] == ["appointment_confirmation"]
    statuses = {row["purpose"]: row["status"] for row in await delivery_rows(notifier_runtime)}
    assert statuses["on_the_way"] == "failed"


async def test_a_safeguarding_case_gets_the_neutral_text_on_the_way_too(notifier_runtime: Runtime):
    sms = BodySms()
    notifier = notifier_for(notifier_runtime, sms)
    await notifier.handle_request(confirmation(safeguarding=True))
    await notifier.handle_request(confirmation(idempotency_key="A1:reminder", safeguarding=False))  # flag stays
    await notifier.contractor_en_route(en_route())
    await notifier.settled()

    bodies = [body for _, _, body in sms.sent]
    assert len(bodies) == 3
    assert not any("HX-BOIL0001" in body or "Fixit" in body for body in bodies)


async def test_a_reminder_for_the_old_time_of_a_rescheduled_appointment_is_dropped(notifier_runtime: Runtime):
    sms = BodySms()
    notifier = notifier_for(notifier_runtime, sms)
    create_app(notifier_runtime, notifier)
    moved = AppointmentRescheduled(
        appointment_id="A1", kind=AppointmentKind.REPAIR, starts_at=STARTS + timedelta(days=2),
        ends_at=STARTS + timedelta(days=2, hours=3), rescheduled_at=STARTS - timedelta(days=1), **CASE,
    )

    def reminder(starts_at: datetime) -> NotificationRequested:
        return confirmation(
            purpose=Purpose.APPOINTMENT_REMINDER, template="appointment_reminder",
            idempotency_key=f"A1:reminder:{starts_at.isoformat()}", appointment_starts_at=starts_at,
        )

    async with TestKafkaBroker(notifier_runtime.broker) as broker:
        for event in (booked(), moved):
            await broker.publish(serialize(event), str(Topic.APPOINTMENTS), key=CASE_ID.encode())
        for wanted in (reminder(STARTS), reminder(moved.starts_at)):
            await broker.publish(serialize(wanted), str(Topic.NOTIFICATIONS_REQUESTED), key=CASE_ID.encode())
        await notifier.settled()

    assert [key for key, _, _ in sms.sent] == [f"A1:reminder:{moved.starts_at.isoformat()}:sms"]
    statuses = {row["idempotency_key"]: row["status"] for row in await delivery_rows(notifier_runtime)}
    assert statuses[f"A1:reminder:{STARTS.isoformat()}"] == "failed"
