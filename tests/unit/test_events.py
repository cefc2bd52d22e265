"""The event contracts (DESIGN §3): one envelope, one discriminated union, bytes in and out."""

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

import pydantic
import pytest

from shared.events.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCompleted,
    AppointmentKind,
    AppointmentNoAccess,
    AppointmentRescheduled,
    ContractorArrived,
    ContractorEnRoute,
    ContractorMissed,
    WorksInspectionRequested,
    WorksOrderCancelled,
    WorksOrderRaised,
)
from shared.events.cases import (
    CallbackMade,
    CallbackRequested,
    CaseFlagged,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintResponded,
    ComplaintStage,
    ExtensionAgreed,
    HazardInvestigated,
    HazardMadeSafe,
    WorksStarted,
)
from shared.events.compliance import (
    CertificateKind,
    CertificateRecorded,
    EscalationReason,
    GasCheckEscalated,
    GasCheckOffered,
    SafetyCheckDue,
    SafetyCheckOverdue,
)
from shared.events.feedback import Aspect, SurveyAnswered, WorksInspected
from shared.events.finance import CreditReason, RentCreditDue

from shared.events import (
    EVENT_TYPES,
    AnyEvent,
    Event,
    UnreadableEvent,
    parse_event,
    serialize,
    stable_event_id,
)
from shared.events.cases import (
    CaseClosed,
    CaseMessageReceived,
    CaseKind,
    CaseOpened,
    CaseReplied,
    Channel,
    Flag,
    Mailbox,
    Priority,
    Reason,
)
from shared.events.notifications import (
    NotificationChannel,
    Intent,
    NotificationDelivered,
    NotificationFailed,
    ReplyReceived,
    NotificationRequested,
    NotificationSent,
    Purpose,
    Recipient,
    StaffTask,
    StaffTaskRaised,
)
from shared.events.sla import Obligation, SlaBreached, SlaMet, SlaWarning, SubjectType

CASE_ID = "5b0f6a3e-8f0e-4c1e-9d43-1c2b3a4d5e6f"
TENANT_EMAIL = "jo.tenant@example.org"
RECEIVED = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)

CASE = {"correlation_id": CASE_ID, "case_id": CASE_ID, "reference": "HX-ABCD2345"}

CLOCK_FIELDS = {
    "correlation_id": CASE_ID,
    "clock_id": f"hexagon:email_reply_repairs:{CASE_ID}",
    "clock": "email_reply_repairs",
    "clock_name": "Reply to an email to repairs_reporting@",
    "subject_type": SubjectType.CASE,
    "subject_id": CASE_ID,
    "reference": "HX-ABCD2345",
    "standard": "hexagon@2024-01-01",
    "obligation": Obligation.INTERNAL,
    "source": "000 Customer Service Standards: We will reply ...",
    "started_at": RECEIVED,
    "deadline": DEADLINE,
}

ONE_OF_EACH: list[Event] = [
    CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference="HX-ABCD2345",
        channel=Channel.EMAIL,
        mailbox=Mailbox.REPAIRS,
        kind=CaseKind.REPAIR_REQUEST,
        priority=Priority.EMERGENCY,
        flags=(Flag.DAMP_AND_MOULD,),
        reasons=(Reason(rule="emergency-repair", words=("smell of gas",)),),
        received_at=RECEIVED,
    ),
    CaseReplied(correlation_id=CASE_ID, case_id=CASE_ID, reference="HX-ABCD2345", replied_at=RECEIVED),
    CaseClosed(correlation_id=CASE_ID, case_id=CASE_ID, reference="HX-ABCD2345", closed_at=RECEIVED),
    CaseMessageReceived(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference="HX-ABCD2345",
        channel=Channel.EMAIL,
        mailbox=Mailbox.REPAIRS,
        received_at=RECEIVED,
        description="Re: HX-ABCD2345\nStill no hot water",
    ),
    NotificationRequested(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        idempotency_key=f"{CASE_ID}:acknowledgement",
        purpose=Purpose.ACKNOWLEDGEMENT,
        template="acknowledgement",
        recipient=Recipient(email=TENANT_EMAIL),
        personalisation={"reference": "HX-ABCD2345", "mailbox": "repairs"},
    ),
    NotificationSent(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        idempotency_key=f"{CASE_ID}:acknowledgement",
        purpose=Purpose.ACKNOWLEDGEMENT,
        channel=NotificationChannel.EMAIL,
        provider_ref="file:ack.eml",
    ),
    NotificationDelivered(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        idempotency_key=f"{CASE_ID}:appointment_reminder",
        purpose=Purpose.APPOINTMENT_REMINDER,
        channel=NotificationChannel.SMS,
        provider_ref="SM0123456789abcdef",
    ),
    ReplyReceived(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        appointment_id="A1",
        intent=Intent.REARRANGE,
        received_at=RECEIVED,
    ),
    StaffTaskRaised(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        task=StaffTask.CHECK_CONTACT_DETAILS,
        reason="texts to the mobile on file failed 3 times in a row",
        raised_at=RECEIVED,
    ),
    NotificationFailed(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        idempotency_key=f"{CASE_ID}:acknowledgement",
        purpose=Purpose.ACKNOWLEDGEMENT,
        reason="no template named nope",
        retryable=False,
    ),
    CaseFlagged(flag="damp_and_mould", flagged_at=RECEIVED, **CASE),
    CallbackRequested(requested_at=RECEIVED, priority=Priority.URGENT, **CASE),
    CallbackMade(made_at=RECEIVED, **CASE),
    ComplaintAcknowledged(stage=ComplaintStage.STAGE_1, acknowledged_at=RECEIVED, **CASE),
    ComplaintResponded(stage=ComplaintStage.STAGE_2, responded_at=RECEIVED, **CASE),
    ComplaintEscalated(escalated_at=RECEIVED, **CASE),
    ExtensionAgreed(
        clock="complaint_stage1_response",
        new_deadline=DEADLINE,
        reason="complex",
        agreed_at=RECEIVED,
        **CASE,
    ),
    HazardInvestigated(investigated_at=RECEIVED, flags=("significant_hazard",), **CASE),
    HazardMadeSafe(made_safe_at=RECEIVED, **CASE),
    WorksStarted(started_at=RECEIVED, **CASE),
    AppointmentBooked(
        appointment_id="A1",
        kind=AppointmentKind.REPAIR,
        starts_at=DEADLINE,
        ends_at=DEADLINE + timedelta(hours=4),
        booked_at=RECEIVED,
        **CASE,
    ),
    AppointmentCancelled(appointment_id="A1", kind=AppointmentKind.REPAIR, cancelled_at=RECEIVED, **CASE),
    AppointmentNoAccess(appointment_id="A1", kind=AppointmentKind.REPAIR, at=RECEIVED, **CASE),
    AppointmentCompleted(
        appointment_id="A1", kind=AppointmentKind.REPAIR, completed_at=RECEIVED, **CASE
    ),
    AppointmentRescheduled(
        appointment_id="A1",
        kind=AppointmentKind.REPAIR,
        starts_at=RECEIVED,
        ends_at=RECEIVED,
        rescheduled_at=RECEIVED,
        **CASE,
    ),
    ContractorEnRoute(
        appointment_id="A1",
        kind=AppointmentKind.REPAIR,
        starts_at=RECEIVED,
        contractor_name="Acme Plumbing",
        at=RECEIVED,
        **CASE,
    ),
    ContractorArrived(appointment_id="A1", kind=AppointmentKind.REPAIR, at=RECEIVED, **CASE),
    ContractorMissed(appointment_id="A1", kind=AppointmentKind.REPAIR, missed_at=RECEIVED, **CASE),
    WorksOrderRaised(works_order_id="W1", raised_at=RECEIVED, **CASE),
    WorksOrderCancelled(works_order_id="W1", cancelled_at=RECEIVED, **CASE),
    WorksInspectionRequested(appointment_id="A1", high_value_or_complex=False, requested_at=RECEIVED, **CASE),
    CertificateRecorded(
        correlation_id="P1",
        property_id="P1",
        property_reference="1 High St",
        kind=CertificateKind.GAS_SAFETY,
        checked_on=RECEIVED.date(),
        recorded_at=RECEIVED,
    ),
    GasCheckOffered(
        correlation_id="P1",
        property_id="P1",
        case_id="gas-P1",
        due_on=RECEIVED.date(),
        attempt=2,
        proposed_starts_at=RECEIVED,
        offered_at=RECEIVED,
    ),
    GasCheckEscalated(
        correlation_id="P1",
        property_id="P1",
        case_id="gas-P1",
        due_on=RECEIVED.date(),
        attempts=3,
        reason=EscalationReason.NO_ACCESS,
        escalated_at=RECEIVED,
    ),
    SafetyCheckDue(
        correlation_id="B1",
        property_id="B1",
        case_id="fra-B1",
        kind=CertificateKind.FIRE_RISK_ASSESSMENT,
        due_on=RECEIVED.date(),
        raised_at=RECEIVED,
    ),
    SafetyCheckOverdue(
        correlation_id="P1",
        property_id="P1",
        case_id="eicr-P1",
        kind=CertificateKind.ELECTRICAL_INSTALLATION,
        due_on=RECEIVED.date(),
        raised_at=RECEIVED,
    ),
    RentCreditDue(
        appointment_id="A1", amount_pence=1000, reason=CreditReason.MISSED_APPOINTMENT, due_at=RECEIVED, **CASE
    ),
    SurveyAnswered(answered_at=RECEIVED, scores={Aspect.OVERALL: 5, Aspect.SPEED_OF_REPAIR: 3}, **CASE),
    WorksInspected(inspected_at=RECEIVED, high_value_or_complex=True, passed=True, **CASE),
    SlaWarning(point="75%", at_fraction=0.75, **CLOCK_FIELDS),
    SlaBreached(**CLOCK_FIELDS),
    SlaMet(
        stopped_at=DEADLINE + timedelta(hours=2),
        working_time_used=timedelta(hours=26),
        late_by=timedelta(hours=2),
        **CLOCK_FIELDS,
    ),
]


def _ids(events: list[Event]) -> list[str]:
    return [event.event_type for event in events]


def test_the_examples_cover_every_event_type():
    assert set(_ids(ONE_OF_EACH)) == set(EVENT_TYPES)


def test_event_types_list_every_model_of_the_union():
    models = AnyEvent.__origin__.__args__  # type: ignore[attr-defined]
    assert EVENT_TYPES == {model.model_fields["event_type"].default for model in models}
    assert len(EVENT_TYPES) == len(models) == len(ONE_OF_EACH)


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=_ids(ONE_OF_EACH))
def test_every_event_round_trips_through_bytes(event: Event):
    again = parse_event(serialize(event))
    assert type(again) is type(event)
    assert again == event


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=_ids(ONE_OF_EACH))
def test_the_envelope_is_at_the_top_level(event: Event):
    body = json.loads(serialize(event))
    assert {"event_id", "event_type", "schema_version", "occurred_at", "correlation_id"} <= body.keys()
    assert body["event_type"] == event.event_type
    assert datetime.fromisoformat(body["occurred_at"]).utcoffset() == timedelta(0)


def test_the_union_dispatches_on_event_type():
    body = json.loads(serialize(ONE_OF_EACH[1]))
    at = body.pop("replied_at")
    as_replied = {**body, "event_type": "case.replied", "replied_at": at}
    as_closed = {**body, "event_type": "case.closed", "closed_at": at}
    assert isinstance(parse_event(json.dumps(as_replied)), CaseReplied)
    assert isinstance(parse_event(json.dumps(as_closed)), CaseClosed)


def test_the_discriminator_decides_which_fields_are_required():
    """A case.closed body labelled case.replied is not silently read as another type."""
    closed = json.loads(serialize(ONE_OF_EACH[2]))
    with pytest.raises(UnreadableEvent, match="replied_at"):
        parse_event(json.dumps({**closed, "event_type": "case.replied"}))


def test_timestamps_with_another_offset_are_read_as_utc():
    body = json.loads(serialize(ONE_OF_EACH[1]))
    body["replied_at"] = "2026-07-01T11:00:00+01:00"
    replied = parse_event(json.dumps(body))
    assert replied.replied_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert replied.replied_at.tzinfo is UTC


def _replied_with(**changes: object) -> bytes:
    body = json.loads(serialize(ONE_OF_EACH[1]))
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


UNREADABLE = {
    "unknown event type": (
        _replied_with(event_type="case.exploded", correlation_id=TENANT_EMAIL),
        ["event_type", "case.opened"],
    ),
    "invalid JSON": (
        b'{"event_type": "case.replied", "correlation_id": "' + TENANT_EMAIL.encode() + b'",',
        ["Invalid JSON"],
    ),
    "not an object": (json.dumps([TENANT_EMAIL]).encode(), ["object"]),
    "missing field": (
        _replied_with(reference=None, correlation_id=TENANT_EMAIL),
        ["reference", "required"],
    ),
    "extra field": (_replied_with(email=TENANT_EMAIL), ["email", "Extra inputs"]),
    "naive timestamp": (
        _replied_with(replied_at="2026-11-30T10:00:00", correlation_id=TENANT_EMAIL),
        ["replied_at", "offset"],
    ),
    "no event type": (
        json.dumps({"correlation_id": TENANT_EMAIL, "case_id": CASE_ID}).encode(),
        ["event_type"],
    ),
}


@pytest.mark.parametrize("raw, named", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_input_is_named_without_echoing_it(raw: bytes, named: list[str]):
    assert TENANT_EMAIL.encode() in raw
    with pytest.raises(UnreadableEvent) as caught:
        parse_event(raw)
    message = str(caught.value)
    for words in named:
        assert words in message
    assert TENANT_EMAIL not in message
    assert caught.value.__cause__ is None  # pydantic's error, which holds the input, is not chained


def test_an_unknown_event_type_is_not_echoed_either():
    """The type itself is input: a poison message may carry anything there."""
    with pytest.raises(UnreadableEvent) as caught:
        parse_event(_replied_with(event_type=TENANT_EMAIL))
    assert "event_type" in str(caught.value)
    assert TENANT_EMAIL not in str(caught.value)


def test_unreadable_event_is_a_value_error():
    assert issubclass(UnreadableEvent, ValueError)


@pytest.mark.parametrize(
    "event", [e for e in ONE_OF_EACH if e.event_type.startswith(("case.", "notification."))], ids=str
)
def test_case_and_notification_events_are_keyed_by_case_id(event: Event):
    assert event.key() == CASE_ID.encode()


@pytest.mark.parametrize("event", [e for e in ONE_OF_EACH if e.event_type.startswith("sla.")], ids=str)
def test_sla_events_are_keyed_by_their_subject(event: Event):
    property_clock = event.model_copy(update={"subject_type": SubjectType.PROPERTY, "subject_id": "P-1001"})
    assert event.key() == CASE_ID.encode()
    assert property_clock.key() == b"P-1001"


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=_ids(ONE_OF_EACH))
def test_events_are_frozen(event: Event):
    with pytest.raises(pydantic.ValidationError):
        event.correlation_id = "changed"  # type: ignore[misc]


def test_events_refuse_extra_fields_on_the_way_out():
    with pytest.raises(pydantic.ValidationError):
        CaseClosed(
            correlation_id=CASE_ID, case_id=CASE_ID, reference="HX-A", closed_at=RECEIVED, note="x"
        )  # type: ignore[call-arg]


def test_events_refuse_naive_timestamps_on_the_way_out():
    with pytest.raises(pydantic.ValidationError):
        CaseClosed(correlation_id=CASE_ID, case_id=CASE_ID, reference="HX-A", closed_at=datetime(2026, 1, 1))


def test_each_new_event_gets_a_new_id():
    first, second = (
        CaseClosed(correlation_id=CASE_ID, case_id=CASE_ID, reference="HX-A", closed_at=RECEIVED)
        for _ in range(2)
    )
    assert first.event_id != second.event_id


def test_stable_event_id_is_deterministic():
    assert stable_event_id("clock-1", "breached") == stable_event_id("clock-1", "breached")
    assert stable_event_id("clock-1", "breached") != stable_event_id("clock-1", "met")
    assert stable_event_id("clock-1", "breached") != stable_event_id("clock-2", "breached")
    assert stable_event_id("a/b", "c") == stable_event_id("a", "b/c")  # parts are joined with "/"
    assert stable_event_id("clock-1", "breached").version == 5


@pytest.mark.parametrize("parts", [("clock-1", "breached"), ("hexagon:letter_reply:case-9", "met"), ("é", "ü/ß")])
def test_stable_event_id_is_the_uuid5_of_the_joined_parts_in_doorsteps_namespace(parts: tuple[str, ...]):
    # Ids already emitted must stay the same across releases: consumers drop repeats by id.
    assert stable_event_id(*parts) == uuid5(UUID("6f1c1d8e-3b9a-4d5e-9a43-2f0b7e1c5d20"), "/".join(parts))
