"""Clocks with the standards that ship: which clocks an event starts, when they run out,
their warning points, and how pauses, extensions, stops and certificates move them.

Every expectation is worked out by hand from the calendar rules: the office is open
09:00-17:00 London on working days; "within N working days" ends at 17:00 on the Nth
working day after the day an event counts as received; an event after 17:00 or on a
non-working day counts from the next working day. November and early December 2026 are
winter (London is on UTC) and hold no bank holiday."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.sla_monitor.domain.clocks import (
    Clock,
    ClockState,
    WarningPoint,
    breach_event,
    cancelled,
    certificate_due,
    due_alerts,
    due_date,
    extended,
    met_event,
    paused,
    resumed,
    start,
    stopped,
    warning_event,
    warning_points,
)
from services.sla_monitor.domain.facts import (
    Subject,
    due_reference,
    event_time,
    facts_of,
    instance_of,
    subject_of,
)
from shared.calendar import Unit, local_date
from shared.events import AnyEvent
from shared.events.cases import (
    CaseClosed,
    CaseKind,
    CaseOpened,
    CaseReplied,
    Channel,
    Flag,
    Mailbox,
    Priority,
)
from shared.events.compliance import CertificateKind, CertificateRecorded
from shared.events.sla import Obligation, SubjectType
from shared.standards.loader import clocks_started_by, load_all
from shared.standards.models import ApplicableClock, ClockDefinition, StandardsBook
from tests.sla_events import CASE_ID, REFERENCE, booked, reminder_sent, utc

PROPERTY_ID = "9d2e7c41-0b7a-4f55-8c3e-2a1b0c9d8e7f"
MONDAY_10_UTC = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # winter: London is on UTC



@pytest.fixture(scope="module")
def book() -> StandardsBook:
    return load_all()


# -- events ------------------------------------------------------------------------------------


def opened(**changes: object) -> CaseOpened:
    fields: dict[str, object] = {
        "correlation_id": CASE_ID,
        "case_id": CASE_ID,
        "reference": REFERENCE,
        "channel": Channel.EMAIL,
        "mailbox": Mailbox.REPAIRS,
        "kind": CaseKind.REPAIR_REQUEST,
        "priority": Priority.ROUTINE,
        "received_at": MONDAY_10_UTC,
    }
    fields.update(changes)
    return CaseOpened(**fields)  # type: ignore[arg-type]


def letter(**changes: object) -> CaseOpened:
    return opened(**{"channel": Channel.LETTER, "mailbox": None, "kind": CaseKind.LETTER, "priority": None, **changes})


def complaint_email(**changes: object) -> CaseOpened:
    return opened(**{"mailbox": Mailbox.COMPLAINTS, "kind": CaseKind.COMPLAINT, "priority": None, **changes})




def certificate(kind: CertificateKind, checked_on: date, review_on: date | None = None) -> CertificateRecorded:
    return CertificateRecorded(
        correlation_id=PROPERTY_ID,
        property_id=PROPERTY_ID,
        property_reference="PR-0042",
        kind=kind,
        checked_on=checked_on,
        review_on=review_on,
        recorded_at=datetime.combine(checked_on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12),
    )


# -- clocks ------------------------------------------------------------------------------------


def clocks_for(book: StandardsBook, event: AnyEvent) -> list[Clock]:
    """The clocks `event` starts on a subject with no clocks yet, as the monitor starts them."""
    at = event_time(event)
    return [
        start(applicable, subject_of(event), instance_of(event), at, due_reference(event, at))
        for applicable in clocks_started_by(book, facts_of(event), local_date(at))
    ]


def by_definition(clocks: list[Clock]) -> dict[str, Clock]:
    found = {clock.definition: clock for clock in clocks}
    assert len(found) == len(clocks), "a definition started twice"
    return found


def definition(book: StandardsBook, clock: Clock) -> ClockDefinition:
    standard = book.pack(clock.pack_id).standard_on(clock.effective_from)
    assert standard is not None
    return standard.clock(clock.definition)


def applicable(book: StandardsBook, pack_id: str, clock_id: str, on: date) -> ApplicableClock:
    standard = book.pack(pack_id).standard_on(on)
    assert standard is not None
    return ApplicableClock(standard.pack_id, standard.pack_kind, standard.effective_from, standard.clock(clock_id))


CASE = Subject(SubjectType.CASE, CASE_ID, REFERENCE)


def case_clock(book: StandardsBook, pack_id: str, clock_id: str, at: datetime) -> Clock:
    return start(applicable(book, pack_id, clock_id, local_date(at)), CASE, "", at, at)


def labels(clock: Clock) -> list[tuple[str, datetime]]:
    return [(w.label, w.at) for w in clock.warnings]


# -- starting ----------------------------------------------------------------------------------


def test_an_email_to_repairs_starts_the_3_working_day_reply_clock(book: StandardsBook):
    clock = by_definition(clocks_for(book, opened()))["email_reply_repairs"]
    assert clock.deadline == utc(2026, 12, 3, 17, 0)  # Thursday, 17:00 London
    assert clock.started_at == MONDAY_10_UTC
    assert clock.state is ClockState.RUNNING
    assert clock.obligation is Obligation.INTERNAL
    assert clock.standard == "hexagon@2024-01-01"
    assert clock.subject_type is SubjectType.CASE
    assert clock.subject_id == CASE_ID
    assert clock.reference == REFERENCE
    assert clock.id == f"hexagon:email_reply_repairs:{CASE_ID}"
    assert clock.instance == ""
    assert clock.unit is Unit.WORKING_DAYS
    assert "3 working days" in clock.source
    assert clock.source.startswith("000 Customer Service Standards")


def test_the_deadline_is_17_00_london_time_in_summer_too(book: StandardsBook):
    summer = opened(received_at=utc(2026, 6, 1, 10, 0))
    clock = by_definition(clocks_for(book, summer))["email_reply_repairs"]
    assert clock.deadline == utc(2026, 6, 4, 16, 0)  # 17:00 BST


def test_bank_holidays_do_not_count(book: StandardsBook):
    christmas_eve = opened(received_at=utc(2026, 12, 24, 10, 0))
    clock = by_definition(clocks_for(book, christmas_eve))["email_reply_repairs"]
    # 25 December (Friday) and 28 December (Boxing Day's substitute) are bank holidays
    assert clock.deadline == utc(2026, 12, 31, 17, 0)


def test_a_letter_starts_the_10_working_day_reply_clock_only(book: StandardsBook):
    clocks = by_definition(clocks_for(book, letter()))
    assert set(clocks) == {"letter_reply"}
    assert clocks["letter_reply"].deadline == utc(2026, 12, 14, 17, 0)


def test_a_letter_received_on_saturday_counts_from_monday(book: StandardsBook):
    saturday = letter(received_at=utc(2026, 11, 28, 11, 0))
    clock = by_definition(clocks_for(book, saturday))["letter_reply"]
    assert clock.deadline == utc(2026, 12, 14, 17, 0)
    assert clock.started_at == saturday.received_at


def test_a_complaint_by_letter_follows_the_complaint_clocks_not_the_letter_clock(book: StandardsBook):
    clocks = by_definition(clocks_for(book, letter(kind=CaseKind.COMPLAINT)))
    assert "letter_reply" not in clocks
    assert "complaint_stage1_acknowledgement" in clocks


def test_a_complaint_starts_internal_and_statutory_clocks_separately(book: StandardsBook):
    clocks = by_definition(clocks_for(book, complaint_email()))
    statutory = {d: c for d, c in clocks.items() if c.obligation is Obligation.STATUTORY}
    internal = {d: c for d, c in clocks.items() if c.obligation is Obligation.INTERNAL}

    assert set(statutory) == {"complaint_stage1_acknowledgement"}
    acknowledge = statutory["complaint_stage1_acknowledgement"]
    assert acknowledge.deadline == utc(2026, 12, 7, 17, 0)  # 5 working days
    assert acknowledge.standard == "statutory-england@2025-12-01"
    assert acknowledge.id.startswith("statutory-england:")
    assert "Complaint Handling Code" in acknowledge.source

    assert {"email_reply_complaints", "complaint_acknowledgement", "complaint_stage1_response"} <= set(internal)
    assert internal["complaint_stage1_response"].deadline == utc(2026, 12, 14, 17, 0)


def test_a_clock_that_chains_from_another_is_not_started_by_the_case(book: StandardsBook):
    clocks = by_definition(clocks_for(book, complaint_email()))
    # the statutory Stage 1 response runs from the acknowledgement, not from receipt
    assert all(c.id != f"statutory-england:complaint_stage1_response:{CASE_ID}" for c in clocks.values())


def test_damp_and_mould_starts_the_awaab_investigation_clock(book: StandardsBook):
    clocks = by_definition(clocks_for(book, opened(flags=(Flag.DAMP_AND_MOULD,))))
    investigate = clocks["awaab_damp_and_mould_investigation"]
    assert investigate.obligation is Obligation.STATUTORY
    assert investigate.deadline == utc(2026, 12, 14, 17, 0)  # 10 working days


def test_a_case_keeps_the_standard_in_force_when_it_was_received(book: StandardsBook):
    before_awaab = opened(flags=(Flag.DAMP_AND_MOULD,), received_at=utc(2025, 10, 20, 10, 0))
    clocks = by_definition(clocks_for(book, before_awaab))
    assert "awaab_damp_and_mould_investigation" not in clocks

    old_complaint = by_definition(clocks_for(book, complaint_email(received_at=utc(2025, 6, 2, 10, 0))))
    assert old_complaint["complaint_stage1_acknowledgement"].standard == "statutory-england@2024-04-01"


@pytest.mark.parametrize(
    "priority, definition_id, deadline",
    [
        (Priority.EMERGENCY, "repair_completion_emergency", MONDAY_10_UTC + timedelta(hours=24)),
        (Priority.URGENT, "repair_completion_urgent", MONDAY_10_UTC + timedelta(days=7)),
        (Priority.ROUTINE, "repair_completion_routine", MONDAY_10_UTC + timedelta(days=28)),
    ],
)
def test_a_repair_starts_its_completion_clock_by_priority(book, priority, definition_id, deadline):  # type: ignore[no-untyped-def]
    clocks = by_definition(clocks_for(book, opened(priority=priority)))
    assert clocks[definition_id].deadline == deadline
    others = {"repair_completion_emergency", "repair_completion_urgent", "repair_completion_routine"} - {definition_id}
    assert others.isdisjoint(clocks)


def test_the_same_case_starts_the_same_clock_ids(book: StandardsBook):
    first = [c.id for c in clocks_for(book, opened())]
    again = [c.id for c in clocks_for(book, opened())]  # a redelivered case.opened
    assert first == again


def test_an_appointment_reminder_is_due_by_17_00_on_the_previous_working_day(book: StandardsBook):
    monday = utc(2026, 3, 16, 10, 0)
    clock = by_definition(clocks_for(book, booked("appt-A", monday, utc(2026, 3, 9, 10, 0))))["appointment_reminder"]
    assert clock.deadline == utc(2026, 3, 13, 17, 0)  # Friday 17:00 (GMT)
    assert clock.instance == "appt-A"
    assert clock.id == f"hexagon:appointment_reminder:{CASE_ID}:appt-A"
    assert clock.started_at == utc(2026, 3, 9, 10, 0)  # the booking, not the appointment


def test_an_emergency_visit_is_promised_no_reminder_from_december_2026(book: StandardsBook):
    # Sunday 02:00, booked for the next two hours: its previous working day was Friday.
    sunday_night = utc(2027, 1, 10, 2, 0)
    emergency = booked("appt-E", sunday_night, sunday_night).model_copy(update={"priority": Priority.EMERGENCY})
    assert "appointment_reminder" not in by_definition(clocks_for(book, emergency))
    routine = booked("appt-R", utc(2027, 1, 14, 8, 0), sunday_night).model_copy(update={"priority": Priority.ROUTINE})
    assert by_definition(clocks_for(book, routine))["appointment_reminder"].deadline == utc(2027, 1, 13, 17, 0)
    # A case opened under the earlier version keeps its promise as it was.
    before = booked("appt-O", utc(2026, 3, 16, 10, 0), utc(2026, 3, 16, 9, 0)).model_copy(
        update={"priority": Priority.EMERGENCY}
    )
    assert "appointment_reminder" in by_definition(clocks_for(book, before))


# -- stopping ----------------------------------------------------------------------------------


@pytest.fixture
def reply_clock(book: StandardsBook) -> Clock:
    return by_definition(clocks_for(book, opened()))["email_reply_repairs"]


def test_a_reply_stops_the_reply_clock(book: StandardsBook, reply_clock: Clock):
    reply = CaseReplied(correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, replied_at=MONDAY_10_UTC)
    assert definition(book, reply_clock).is_stopped_by(facts_of(reply))


def test_met_on_time_has_no_late_by(reply_clock: Clock):
    at = utc(2026, 12, 1, 12, 0)
    met = met_event(reply_clock, at)
    assert met.late_by is None
    assert met.stopped_at == at
    assert met.working_time_used == timedelta(hours=7 + 3)  # Monday 10-17, Tuesday 09-12


def test_met_exactly_at_the_deadline_is_on_time(reply_clock: Clock):
    assert met_event(reply_clock, reply_clock.deadline).late_by is None


def test_met_late_says_by_how_much(reply_clock: Clock):
    met = met_event(reply_clock, reply_clock.deadline + timedelta(hours=20))
    assert met.late_by == timedelta(hours=20)


def test_met_event_id_is_stable_and_differs_from_the_breach(reply_clock: Clock):
    at = utc(2026, 12, 1, 12, 0)
    assert met_event(reply_clock, at).event_id == met_event(reply_clock, at).event_id
    assert met_event(reply_clock, at).event_id != breach_event(reply_clock).event_id


def test_stopped_and_breached_change_only_the_state(reply_clock: Clock):
    at = utc(2026, 12, 4, 9, 0)
    assert stopped(reply_clock, at).state is ClockState.MET
    assert stopped(reply_clock, at).stopped_at == at
    breached, _, was_breached = due_alerts(reply_clock, at)
    assert was_breached
    assert breached.state is ClockState.BREACHED
    assert breached.breached_at == at
    assert breached.deadline == reply_clock.deadline
    assert reply_clock.state is ClockState.RUNNING  # clocks are values


def test_a_stopped_or_cancelled_clock_has_nothing_left_to_alert(reply_clock: Clock):
    at = utc(2026, 12, 1, 12, 0)
    for ended in (stopped(reply_clock, at), cancelled(reply_clock, at)):
        assert ended.warnings == ()
        assert ended.next_alert_at is None
        assert due_alerts(ended, utc(2026, 12, 10, 0, 0)) == (ended, [], False)
    assert cancelled(reply_clock, at).state is ClockState.CANCELLED


# -- breaching ---------------------------------------------------------------------------------


def test_a_breach_carries_what_operations_staff_need(reply_clock: Clock):
    breach = breach_event(reply_clock)
    assert breach.event_type == "sla.breached"
    assert breach.clock_id == reply_clock.id
    assert breach.clock == "email_reply_repairs"
    assert breach.clock_name == "Reply to an email to repairs_reporting@"
    assert breach.deadline == reply_clock.deadline
    assert breach.started_at == MONDAY_10_UTC
    assert breach.standard == "hexagon@2024-01-01"
    assert breach.obligation is Obligation.INTERNAL
    assert breach.source == reply_clock.source
    assert breach.reference == REFERENCE
    assert breach.key() == CASE_ID.encode()
    assert breach.correlation_id == CASE_ID


def test_a_breach_of_the_same_clock_always_has_the_same_event_id(book: StandardsBook, reply_clock: Clock):
    again = by_definition(clocks_for(book, opened()))["email_reply_repairs"]
    breached, _, _ = due_alerts(reply_clock, reply_clock.deadline)
    assert breach_event(reply_clock).event_id == breach_event(again).event_id
    assert breach_event(reply_clock).event_id == breach_event(breached).event_id


def test_breaches_of_different_clocks_have_different_event_ids(book: StandardsBook):
    clocks = clocks_for(book, complaint_email())
    assert len({breach_event(c).event_id for c in clocks}) == len(clocks)


def test_facts_of_a_case_carry_what_clocks_match_on():
    facts = facts_of(opened(flags=(Flag.DAMP_AND_MOULD,)))
    assert facts.event_type == "case.opened"
    assert (facts.channel, facts.mailbox, facts.kind, facts.priority) == ("email", "repairs", "repair_request", "routine")
    assert facts.flags == frozenset({"damp_and_mould"})


# -- warning points ----------------------------------------------------------------------------


def test_a_working_day_clock_warns_at_50_and_75_percent_of_its_office_hours_and_a_day_before(
    reply_clock: Clock,
):
    # Monday 10:00 to Thursday 17:00 holds 7 + 8 + 8 + 8 = 31 office hours.
    # 50% = 15h30: Monday 7h, Tuesday 8h, then Wednesday 09:00 + 0h30.
    # 75% = 23h15: Monday 7h, Tuesday 8h, Wednesday 8h, then Thursday 09:00 + 0h15.
    assert labels(reply_clock) == [
        ("50%", utc(2026, 12, 2, 9, 30)),
        ("1 working day before", utc(2026, 12, 2, 17, 0)),
        ("75%", utc(2026, 12, 3, 9, 15)),
    ]
    assert [w.fraction for w in reply_clock.warnings] == [0.5, None, 0.75]
    assert reply_clock.next_alert_at == utc(2026, 12, 2, 9, 30)


def test_an_email_after_17_00_on_friday_counts_from_monday(book: StandardsBook):
    friday_evening = opened(received_at=utc(2026, 12, 4, 17, 30))
    clock = by_definition(clocks_for(book, friday_evening))["email_reply_repairs"]
    # Received Monday 7 December; 3 working days on is Thursday 10 December, 17:00.
    assert clock.deadline == utc(2026, 12, 10, 17, 0)
    # 32 office hours, Monday to Thursday: 50% = 16h ends Tuesday 17:00, 75% = 24h Wednesday 17:00.
    # 75% and "1 working day before" fall at the same instant: both are kept.
    assert set(labels(clock)) == {
        ("50%", utc(2026, 12, 8, 17, 0)),
        ("1 working day before", utc(2026, 12, 9, 17, 0)),
        ("75%", utc(2026, 12, 9, 17, 0)),
    }
    assert [w.at for w in clock.warnings] == sorted(w.at for w in clock.warnings)


def test_calendar_unit_clocks_warn_at_elapsed_fractions_and_not_a_working_day_before(book: StandardsBook):
    clocks = by_definition(clocks_for(book, opened(priority=Priority.URGENT)))
    urgent = clocks["repair_completion_urgent"]  # 7 calendar days: Monday 30 Nov 10:00 to Monday 7 Dec 10:00
    assert labels(urgent) == [
        ("50%", utc(2026, 12, 3, 22, 0)),  # 3.5 days
        ("75%", utc(2026, 12, 5, 16, 0)),  # 5.25 days, a Saturday: calendar time counts
    ]
    emergency = by_definition(clocks_for(book, opened(priority=Priority.EMERGENCY)))["repair_completion_emergency"]
    assert labels(emergency) == [("50%", utc(2026, 11, 30, 22, 0)), ("75%", utc(2026, 12, 1, 4, 0))]


def test_warning_points_at_or_before_the_start_are_dropped(book: StandardsBook):
    # Booked on Friday evening for Monday: the reminder was due at 17:00 already.
    late = booked("appt-A", utc(2026, 12, 7, 10, 0), utc(2026, 12, 4, 18, 0))
    clock = by_definition(clocks_for(book, late))["appointment_reminder"]
    assert clock.deadline == utc(2026, 12, 4, 17, 0)
    assert clock.warnings == ()

    start_ = utc(2026, 12, 1, 10, 0)
    assert warning_points((0.5, 0.75), Unit.HOURS, start_, start_) == ()
    # Saturday to Monday 09:00 holds no office time: 50% lands on the deadline itself, and
    # "1 working day before" (Friday 17:00) before the start.
    assert warning_points((0.5,), Unit.WORKING_DAYS, utc(2026, 12, 5, 10, 0), utc(2026, 12, 7, 9, 0)) == ()


def test_warning_points_are_in_time_order_whatever_the_fractions():
    points = warning_points((0.25, 0.9), Unit.HOURS, utc(2026, 12, 1, 0, 0), utc(2026, 12, 1, 20, 0))
    assert points == (
        WarningPoint("25%", utc(2026, 12, 1, 5, 0), 0.25),
        WarningPoint("90%", utc(2026, 12, 1, 18, 0), 0.9),
    )


# -- due alerts --------------------------------------------------------------------------------


def test_due_alerts_emit_each_passed_warning_once_then_the_breach_at_the_deadline(reply_clock: Clock):
    quiet, none_yet, breached = due_alerts(reply_clock, utc(2026, 12, 2, 9, 29))
    assert (none_yet, breached) == ([], False)
    assert quiet == reply_clock

    after_half, passed, breached = due_alerts(reply_clock, utc(2026, 12, 2, 10, 0))
    assert [w.label for w in passed] == ["50%"]
    assert not breached
    assert after_half.state is ClockState.RUNNING
    assert after_half.next_alert_at == utc(2026, 12, 2, 17, 0)

    again, passed_again, _ = due_alerts(after_half, utc(2026, 12, 2, 10, 0))
    assert passed_again == []
    assert again == after_half

    ended, last, breached = due_alerts(after_half, reply_clock.deadline)
    assert [w.label for w in last] == ["1 working day before", "75%"]
    assert breached
    assert ended.state is ClockState.BREACHED
    assert ended.breached_at == reply_clock.deadline
    assert ended.warnings == ()
    assert ended.next_alert_at is None
    assert due_alerts(ended, reply_clock.deadline + timedelta(days=1)) == (ended, [], False)


def test_a_second_before_the_deadline_is_not_a_breach(reply_clock: Clock):
    _, _, breached = due_alerts(reply_clock, reply_clock.deadline - timedelta(seconds=1))
    assert not breached


def test_a_paused_clock_raises_no_alerts(reply_clock: Clock):
    on_hold = paused(reply_clock, utc(2026, 12, 1, 12, 0))
    assert on_hold.next_alert_at is None
    assert due_alerts(on_hold, utc(2026, 12, 20, 0, 0)) == (on_hold, [], False)


# -- pausing and resuming ----------------------------------------------------------------------


def test_an_hours_clock_paused_for_3_hours_is_due_3_hours_later(book: StandardsBook):
    emergency = by_definition(clocks_for(book, opened(priority=Priority.EMERGENCY)))["repair_completion_emergency"]
    assert emergency.deadline == utc(2026, 12, 1, 10, 0)

    on_hold = paused(emergency, utc(2026, 11, 30, 14, 0))
    assert on_hold.state is ClockState.PAUSED
    assert on_hold.paused_at == utc(2026, 11, 30, 14, 0)
    running = resumed(on_hold, utc(2026, 11, 30, 17, 0))

    assert running.state is ClockState.RUNNING
    assert running.paused_at is None
    assert running.deadline == utc(2026, 12, 1, 13, 0)
    assert all(w.at > utc(2026, 11, 30, 17, 0) for w in running.warnings)
    assert running.next_alert_at is not None and running.next_alert_at < running.deadline


def test_a_working_day_clock_carries_its_remaining_office_time_over_a_weekend(reply_clock: Clock):
    # Paused Wednesday 12:00 with 5h left that day and 8h on Thursday: 13h to carry.
    on_hold = paused(reply_clock, utc(2026, 12, 2, 12, 0))
    # Resumed Friday 15:00: Friday 2h, Monday 8h, Tuesday 09:00 + 3h.
    running = resumed(on_hold, utc(2026, 12, 4, 15, 0))
    assert running.deadline == utc(2026, 12, 8, 12, 0)
    assert running.state is ClockState.RUNNING
    assert all(w.at > utc(2026, 12, 4, 15, 0) for w in running.warnings)
    assert ("1 working day before", utc(2026, 12, 7, 17, 0)) in labels(running)


def test_a_resume_on_a_weekend_counts_from_the_next_opening(reply_clock: Clock):
    on_hold = paused(reply_clock, utc(2026, 12, 3, 13, 0))  # 4h left on Thursday
    running = resumed(on_hold, utc(2026, 12, 5, 11, 0))  # Saturday
    assert running.deadline == utc(2026, 12, 7, 13, 0)  # Monday 09:00 + 4h


def test_after_a_long_pause_the_remaining_time_still_has_its_warnings(book: StandardsBook):
    """Warning points are fractions of the target: 12 and 18 of the 24 hours used,
    however long the clock stood still in between."""
    emergency = by_definition(clocks_for(book, opened(priority=Priority.EMERGENCY)))["repair_completion_emergency"]
    on_hold = paused(emergency, utc(2026, 11, 30, 14, 0))  # 4 of the 24 hours used
    running = resumed(on_hold, utc(2026, 12, 3, 14, 0))  # 72 hours later
    assert running.deadline == utc(2026, 12, 4, 10, 0)
    # 50% is reached 8 running hours after the resume, 75% 14 hours after it.
    assert labels(running) == [("50%", utc(2026, 12, 3, 22, 0)), ("75%", utc(2026, 12, 4, 4, 0))]


# -- extensions --------------------------------------------------------------------------------


ACKNOWLEDGED = utc(2026, 11, 4, 11, 0)  # a Wednesday


@pytest.fixture
def statutory_response(book: StandardsBook) -> Clock:
    """The Complaint Handling Code's Stage 1 response, chained from an acknowledgement."""
    clock = case_clock(book, "statutory-england", "complaint_stage1_response", ACKNOWLEDGED)
    assert clock.deadline == utc(2026, 11, 18, 17, 0)  # 10 working days after Wednesday 4 November
    assert clock.obligation is Obligation.STATUTORY
    return clock


def extension_of(book: StandardsBook, clock: Clock):  # type: ignore[no-untyped-def]
    return definition(book, clock).extension


def test_an_extension_within_the_legal_maximum_moves_the_deadline(book: StandardsBook, statutory_response: Clock):
    moved, over_limit = extended(
        statutory_response, extension_of(book, statutory_response), utc(2026, 11, 27, 17, 0), utc(2026, 11, 16, 10, 0)
    )
    assert moved.deadline == utc(2026, 11, 27, 17, 0)
    assert moved.extended_from == utc(2026, 11, 18, 17, 0)
    assert not over_limit
    assert all(w.at > utc(2026, 11, 16, 10, 0) for w in moved.warnings)
    assert ("1 working day before", utc(2026, 11, 26, 17, 0)) in labels(moved)


def test_an_extension_beyond_the_legal_maximum_is_capped_and_flagged(book: StandardsBook, statutory_response: Clock):
    moved, over_limit = extended(
        statutory_response, extension_of(book, statutory_response), utc(2026, 12, 11, 17, 0), utc(2026, 11, 16, 10, 0)
    )
    # 10 working days after Wednesday 18 November is Wednesday 2 December.
    assert moved.deadline == utc(2026, 12, 2, 17, 0)
    assert over_limit


def test_a_second_extension_is_still_limited_from_the_original_deadline(book: StandardsBook, statutory_response: Clock):
    extension = extension_of(book, statutory_response)
    once, _ = extended(statutory_response, extension, utc(2026, 11, 27, 17, 0), utc(2026, 11, 16, 10, 0))
    twice, over_limit = extended(once, extension, utc(2026, 12, 9, 17, 0), utc(2026, 11, 25, 10, 0))
    assert twice.deadline == utc(2026, 12, 2, 17, 0)
    assert twice.extended_from == utc(2026, 11, 18, 17, 0)
    assert over_limit


def test_an_extension_agreed_after_the_deadline_changes_nothing(book: StandardsBook, statutory_response: Clock):
    moved, over_limit = extended(
        statutory_response, extension_of(book, statutory_response), utc(2026, 11, 27, 17, 0), utc(2026, 11, 19, 9, 0)
    )
    assert moved == statutory_response
    assert not over_limit


def test_an_internal_extension_with_no_maximum_moves_the_deadline_as_agreed(book: StandardsBook):
    internal = case_clock(book, "hexagon", "complaint_stage1_response", utc(2026, 11, 2, 10, 0))
    assert internal.deadline == utc(2026, 11, 16, 17, 0)
    extension = extension_of(book, internal)
    assert extension is not None and extension.amount is None

    moved, over_limit = extended(internal, extension, utc(2027, 1, 29, 17, 0), utc(2026, 11, 10, 10, 0))
    assert moved.deadline == utc(2027, 1, 29, 17, 0)
    assert moved.extended_from == utc(2026, 11, 16, 17, 0)
    assert not over_limit


def test_a_clock_whose_standard_allows_no_extension_is_not_extended(book: StandardsBook, reply_clock: Clock):
    assert extension_of(book, reply_clock) is None
    moved, over_limit = extended(reply_clock, None, utc(2026, 12, 10, 17, 0), utc(2026, 12, 1, 10, 0))
    assert (moved, over_limit) == (reply_clock, False)


def test_a_met_clock_is_not_extended(book: StandardsBook, statutory_response: Clock):
    met = stopped(statutory_response, utc(2026, 11, 10, 10, 0))
    moved, _ = extended(met, extension_of(book, met), utc(2026, 11, 27, 17, 0), utc(2026, 11, 16, 10, 0))
    assert moved == met


# -- warning events ----------------------------------------------------------------------------


def test_a_warning_carries_its_point_and_the_clock(reply_clock: Clock):
    point = reply_clock.warnings[0]
    warning = warning_event(reply_clock, point)
    assert warning.event_type == "sla.warning"
    assert warning.point == "50%"
    assert warning.at_fraction == 0.5
    assert warning.clock_id == reply_clock.id
    assert warning.deadline == reply_clock.deadline
    assert warning.key() == CASE_ID.encode()


def test_warning_event_ids_are_stable_for_a_point_and_change_when_the_deadline_moves(
    book: StandardsBook, statutory_response: Clock
):
    half = statutory_response.warnings[0]
    assert warning_event(statutory_response, half).event_id == warning_event(statutory_response, half).event_id
    again = case_clock(book, "statutory-england", "complaint_stage1_response", ACKNOWLEDGED)
    assert warning_event(again, again.warnings[0]).event_id == warning_event(statutory_response, half).event_id

    others = {warning_event(statutory_response, w).event_id for w in statutory_response.warnings}
    assert len(others) == len(statutory_response.warnings)

    moved, _ = extended(
        statutory_response, extension_of(book, statutory_response), utc(2026, 11, 27, 17, 0), utc(2026, 11, 10, 9, 0)
    )
    moved_half = next(w for w in moved.warnings if w.label == "50%")
    assert warning_event(moved, moved_half).event_id != warning_event(statutory_response, half).event_id
    assert warning_event(statutory_response, half).event_id != breach_event(statutory_response).event_id


# -- which clocks an event concerns ------------------------------------------------------------


def test_an_event_about_one_appointment_leaves_the_clocks_of_another_alone(book: StandardsBook):
    monday, tuesday = utc(2026, 12, 7, 10, 0), utc(2026, 12, 8, 10, 0)
    reminder_a = by_definition(clocks_for(book, booked("appt-A", monday, MONDAY_10_UTC)))["appointment_reminder"]
    reminder_b = by_definition(clocks_for(book, booked("appt-B", tuesday, MONDAY_10_UTC)))["appointment_reminder"]
    completion = by_definition(clocks_for(book, opened()))["repair_completion_routine"]
    about_a = instance_of(reminder_sent("appt-A", utc(2026, 12, 4, 12, 0)))

    assert reminder_a.concerns(about_a)
    assert not reminder_b.concerns(about_a)
    assert completion.concerns(about_a)  # a clock of the whole case hears about every appointment

    case_wide = instance_of(CaseClosed(correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, closed_at=monday))
    assert case_wide == ""
    assert reminder_a.concerns(case_wide) and reminder_b.concerns(case_wide) and completion.concerns(case_wide)


# -- certificates ------------------------------------------------------------------------------


def test_a_gas_certificate_is_due_a_year_on_and_lapses_at_the_next_london_midnight(book: StandardsBook):
    first = certificate(CertificateKind.GAS_SAFETY, date(2025, 3, 10))
    clocks = [c for c in clocks_for(book, first) if c.definition == "gas_safety_check"]
    assert {c.pack_id for c in clocks} == {"hexagon", "statutory-england"}
    gas = applicable(book, "statutory-england", "gas_safety_check", date(2025, 3, 10))

    due_on = certificate_due(gas.clock, first, None)
    assert due_on == date(2026, 3, 10)
    clock = start(gas, subject_of(first), instance_of(first), first.recorded_at, first.recorded_at, due_on)
    assert clock.subject_type is SubjectType.PROPERTY
    assert clock.subject_id == PROPERTY_ID
    assert clock.reference == "PR-0042"
    assert clock.deadline == utc(2026, 3, 11, 0, 0)  # midnight at the end of 10 March (GMT)
    assert due_date(clock) == date(2026, 3, 10)
    # Months are counted in elapsed time: 75% and 90% of 10 March 12:00 to 11 March 00:00.
    assert labels(clock) == [("75%", utc(2025, 12, 9, 15, 0)), ("90%", utc(2026, 2, 2, 10, 48))]


def test_a_certificate_due_in_summer_lapses_at_midnight_british_summer_time(book: StandardsBook):
    july = certificate(CertificateKind.GAS_SAFETY, date(2025, 7, 10))
    gas = applicable(book, "hexagon", "gas_safety_check", date(2025, 7, 10))
    due_on = certificate_due(gas.clock, july, None)
    clock = start(gas, subject_of(july), instance_of(july), july.recorded_at, july.recorded_at, due_on)
    assert clock.deadline == utc(2026, 7, 10, 23, 0)  # 00:00 BST on 11 July
    assert due_date(clock) == date(2026, 7, 10)


def test_a_gas_check_inside_the_two_month_window_keeps_the_due_date(book: StandardsBook):
    gas = applicable(book, "statutory-england", "gas_safety_check", date(2026, 2, 20)).clock
    in_window = certificate(CertificateKind.GAS_SAFETY, date(2026, 2, 20))
    early = certificate(CertificateKind.GAS_SAFETY, date(2026, 1, 9))
    assert certificate_due(gas, in_window, date(2026, 3, 10)) == date(2027, 3, 10)
    assert certificate_due(gas, early, date(2026, 3, 10)) == date(2027, 1, 9)


def test_a_fire_risk_assessment_is_due_on_its_review_date(book: StandardsBook):
    fra = applicable(book, "hexagon", "fire_risk_assessment", date(2026, 5, 1)).clock
    reviewed = certificate(CertificateKind.FIRE_RISK_ASSESSMENT, date(2026, 5, 1), review_on=date(2026, 11, 1))
    assert certificate_due(fra, reviewed, None) == date(2026, 11, 1)
    unreviewed = certificate(CertificateKind.FIRE_RISK_ASSESSMENT, date(2026, 5, 1))
    assert certificate_due(fra, unreviewed, None) == date(2027, 5, 1)


def test_an_electrical_check_is_due_60_months_on(book: StandardsBook):
    check = certificate(CertificateKind.ELECTRICAL_INSTALLATION, date(2026, 2, 15))
    [clock] = clocks_for(book, check)  # the age-limited internal clock is superseded by the law
    assert (clock.pack_id, clock.definition) == ("statutory-england", "electrical_safety_check")
    electrical = applicable(book, "statutory-england", "electrical_safety_check", date(2026, 2, 15)).clock
    assert certificate_due(electrical, check, None) == date(2031, 2, 15)


def test_a_clock_not_counted_in_months_takes_no_certificate_due_date(book: StandardsBook, reply_clock: Clock):
    gas = certificate(CertificateKind.GAS_SAFETY, date(2026, 2, 20))
    assert certificate_due(definition(book, reply_clock), gas, None) is None



def test_warning_points_counted_at_once_match_adding_each_fraction_of_the_working_time():
    """The monitor counts a clock's fractions in one pass; each must land exactly where
    adding that share of the office time to the start does, whatever the start: evenings,
    weekends, the October clock change, the Christmas bank holidays."""
    from shared.calendar import default_calendar as calendar

    fractions = (0.0, 0.25, 0.5, 0.75, 1.0)
    starts = [
        datetime(2026, 10, 23, 8, 0, tzinfo=UTC) + timedelta(minutes=97 * n) for n in range(160)
    ] + [datetime(2026, 12, 23, 16, 59, 59, 999_999, tzinfo=UTC)]
    for started in starts:
        deadline = calendar.deadline(started, 10, Unit.WORKING_DAYS)
        span = calendar.working_time_between(started, deadline)
        expected = [calendar.add_working_time(started, f * span) for f in fractions]
        assert calendar.working_time_points(started, deadline, fractions) == expected, started


def test_working_time_points_refuse_a_negative_fraction_or_an_end_before_the_start():
    from shared.calendar import default_calendar as calendar

    started = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="negative fraction"):
        calendar.working_time_points(started, started + timedelta(days=3), (-0.5,))
    with pytest.raises(ValueError, match="before start"):
        calendar.working_time_points(started, started - timedelta(days=3), (0.5,))


def test_preparing_the_calendar_lists_the_working_days_of_the_years_clocks_run_in(
    monkeypatch: pytest.MonkeyPatch,
):
    import services.sla_monitor.domain.clocks as clocks_module
    from shared.calendar import WorkingCalendar

    asked: list[int] = []
    fresh = WorkingCalendar(holidays_of_year=lambda year: asked.append(year) or [])
    monkeypatch.setattr(clocks_module, "calendar", fresh)
    clocks_module.prepare_calendar(date(2026, 12, 1))
    assert sorted(set(asked)) == [2025, 2026, 2027, 2028]
