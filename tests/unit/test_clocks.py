"""Which clocks a new case starts and when they run out, with the standards that ship."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.events.cases import CaseKind, CaseOpened, CaseReplied, Channel, Flag, Mailbox, Priority
from shared.events.sla import Obligation, SubjectType
from shared.standards.loader import load_all
from shared.standards.models import StandardsBook
from services.sla_monitor.domain.clocks import (
    Clock,
    ClockState,
    breach_event,
    breached,
    clocks_for_new_case,
    definition_of,
    facts_of,
    met_event,
    stopped,
)

CASE_ID = "5b0f6a3e-8f0e-4c1e-9d43-1c2b3a4d5e6f"
MONDAY_10_UTC = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # winter: London is on UTC


@pytest.fixture(scope="module")
def book() -> StandardsBook:
    return load_all()


def opened(**changes: object) -> CaseOpened:
    fields: dict[str, object] = {
        "correlation_id": CASE_ID,
        "case_id": CASE_ID,
        "reference": "HX-ABCD2345",
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


def by_definition(clocks: list[Clock]) -> dict[str, Clock]:
    found = {clock.definition: clock for clock in clocks}
    assert len(found) == len(clocks), "a definition started twice"
    return found


# -- starting --------------------------------------------------------------------------------


def test_an_email_to_repairs_starts_the_3_working_day_reply_clock(book: StandardsBook):
    clock = by_definition(clocks_for_new_case(book, opened()))["email_reply_repairs"]
    assert clock.deadline == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # Thursday, 17:00 London
    assert clock.started_at == MONDAY_10_UTC
    assert clock.state is ClockState.RUNNING
    assert clock.obligation is Obligation.INTERNAL
    assert clock.standard == "hexagon@2024-01-01"
    assert clock.subject_type is SubjectType.CASE
    assert clock.subject_id == CASE_ID
    assert clock.reference == "HX-ABCD2345"
    assert clock.id == f"hexagon:email_reply_repairs:{CASE_ID}"
    assert "3 working days" in clock.source
    assert clock.source.startswith("000 Customer Service Standards")


def test_the_deadline_is_17_00_london_time_in_summer_too(book: StandardsBook):
    summer = opened(received_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    clock = by_definition(clocks_for_new_case(book, summer))["email_reply_repairs"]
    assert clock.deadline == datetime(2026, 6, 4, 16, 0, tzinfo=UTC)  # 17:00 BST


def test_bank_holidays_do_not_count(book: StandardsBook):
    christmas_eve = opened(received_at=datetime(2026, 12, 24, 10, 0, tzinfo=UTC))
    clock = by_definition(clocks_for_new_case(book, christmas_eve))["email_reply_repairs"]
    # 25 December (Friday) and 28 December (Boxing Day's substitute) are bank holidays
    assert clock.deadline == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)


def test_a_letter_starts_the_10_working_day_reply_clock_only(book: StandardsBook):
    clocks = by_definition(clocks_for_new_case(book, letter()))
    assert set(clocks) == {"letter_reply"}
    assert clocks["letter_reply"].deadline == datetime(2026, 12, 14, 17, 0, tzinfo=UTC)


def test_a_letter_received_on_saturday_counts_from_monday(book: StandardsBook):
    saturday = letter(received_at=datetime(2026, 11, 28, 11, 0, tzinfo=UTC))
    clock = by_definition(clocks_for_new_case(book, saturday))["letter_reply"]
    assert clock.deadline == datetime(2026, 12, 14, 17, 0, tzinfo=UTC)
    assert clock.started_at == saturday.received_at


def test_a_complaint_by_letter_follows_the_complaint_clocks_not_the_letter_clock(book: StandardsBook):
    clocks = by_definition(clocks_for_new_case(book, letter(kind=CaseKind.COMPLAINT)))
    assert "letter_reply" not in clocks
    assert "complaint_stage1_acknowledgement" in clocks


def test_a_complaint_starts_internal_and_statutory_clocks_separately(book: StandardsBook):
    clocks = by_definition(clocks_for_new_case(book, complaint_email()))
    statutory = {d: c for d, c in clocks.items() if c.obligation is Obligation.STATUTORY}
    internal = {d: c for d, c in clocks.items() if c.obligation is Obligation.INTERNAL}

    assert set(statutory) == {"complaint_stage1_acknowledgement"}
    acknowledge = statutory["complaint_stage1_acknowledgement"]
    assert acknowledge.deadline == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # 5 working days
    assert acknowledge.standard == "statutory-england@2025-12-01"
    assert acknowledge.id.startswith("statutory-england:")
    assert "Complaint Handling Code" in acknowledge.source

    assert {"email_reply_complaints", "complaint_acknowledgement", "complaint_stage1_response"} <= set(internal)
    assert internal["complaint_stage1_response"].deadline == datetime(2026, 12, 14, 17, 0, tzinfo=UTC)


def test_a_clock_that_chains_from_another_is_not_started_by_the_case(book: StandardsBook):
    clocks = by_definition(clocks_for_new_case(book, complaint_email()))
    # the statutory Stage 1 response runs from the acknowledgement, not from receipt
    assert all(c.id != f"statutory-england:complaint_stage1_response:{CASE_ID}" for c in clocks.values())


def test_damp_and_mould_starts_the_awaab_investigation_clock(book: StandardsBook):
    clocks = by_definition(clocks_for_new_case(book, opened(flags=(Flag.DAMP_AND_MOULD,))))
    investigate = clocks["awaab_damp_and_mould_investigation"]
    assert investigate.obligation is Obligation.STATUTORY
    assert investigate.deadline == datetime(2026, 12, 14, 17, 0, tzinfo=UTC)  # 10 working days


def test_a_case_keeps_the_standard_in_force_when_it_was_received(book: StandardsBook):
    before_awaab = opened(flags=(Flag.DAMP_AND_MOULD,), received_at=datetime(2025, 10, 20, 10, 0, tzinfo=UTC))
    clocks = by_definition(clocks_for_new_case(book, before_awaab))
    assert "awaab_damp_and_mould_investigation" not in clocks

    old_complaint = by_definition(clocks_for_new_case(book, complaint_email(received_at=datetime(2025, 6, 2, 10, 0, tzinfo=UTC))))
    assert old_complaint["complaint_stage1_acknowledgement"].standard == "statutory-england@2024-04-01"


@pytest.mark.parametrize(
    "priority, definition, deadline",
    [
        (Priority.EMERGENCY, "repair_completion_emergency", MONDAY_10_UTC + timedelta(hours=24)),
        (Priority.URGENT, "repair_completion_urgent", MONDAY_10_UTC + timedelta(days=7)),
        (Priority.ROUTINE, "repair_completion_routine", MONDAY_10_UTC + timedelta(days=28)),
    ],
)
def test_a_repair_starts_its_completion_clock_by_priority(book, priority, definition, deadline):  # type: ignore[no-untyped-def]
    clocks = by_definition(clocks_for_new_case(book, opened(priority=priority)))
    assert clocks[definition].deadline == deadline
    others = {"repair_completion_emergency", "repair_completion_urgent", "repair_completion_routine"} - {definition}
    assert others.isdisjoint(clocks)


def test_the_same_case_starts_the_same_clock_ids(book: StandardsBook):
    first = [c.id for c in clocks_for_new_case(book, opened())]
    again = [c.id for c in clocks_for_new_case(book, opened())]  # a redelivered case.opened
    assert first == again


# -- stopping ----------------------------------------------------------------------------------


@pytest.fixture
def reply_clock(book: StandardsBook) -> Clock:
    return by_definition(clocks_for_new_case(book, opened()))["email_reply_repairs"]


def test_a_reply_stops_the_reply_clock(book: StandardsBook, reply_clock: Clock):
    reply = CaseReplied(correlation_id=CASE_ID, case_id=CASE_ID, reference="HX-ABCD2345", replied_at=MONDAY_10_UTC)
    assert definition_of(book, reply_clock).is_stopped_by(facts_of(reply))


def test_met_on_time_has_no_late_by(reply_clock: Clock):
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
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
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert met_event(reply_clock, at).event_id == met_event(reply_clock, at).event_id
    assert met_event(reply_clock, at).event_id != breach_event(reply_clock).event_id


def test_stopped_and_breached_change_only_the_state(reply_clock: Clock):
    at = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert stopped(reply_clock, at).state is ClockState.MET
    assert stopped(reply_clock, at).stopped_at == at
    assert breached(reply_clock, at).state is ClockState.BREACHED
    assert breached(reply_clock, at).breached_at == at
    assert breached(reply_clock, at).deadline == reply_clock.deadline
    assert reply_clock.state is ClockState.RUNNING  # clocks are values


# -- breaching ---------------------------------------------------------------------------------


def test_a_breach_carries_what_operations_staff_need(reply_clock: Clock):
    breach = breach_event(reply_clock)
    assert breach.event_type == "sla.breached"
    assert breach.clock_id == reply_clock.id
    assert breach.clock == "email_reply_repairs"
    assert breach.deadline == reply_clock.deadline
    assert breach.started_at == MONDAY_10_UTC
    assert breach.standard == "hexagon@2024-01-01"
    assert breach.obligation is Obligation.INTERNAL
    assert breach.source == reply_clock.source
    assert breach.reference == "HX-ABCD2345"
    assert breach.key() == CASE_ID.encode()
    assert breach.correlation_id == CASE_ID


def test_a_breach_of_the_same_clock_always_has_the_same_event_id(book: StandardsBook, reply_clock: Clock):
    again = by_definition(clocks_for_new_case(book, opened()))["email_reply_repairs"]
    assert breach_event(reply_clock).event_id == breach_event(again).event_id
    assert breach_event(reply_clock).event_id == breach_event(breached(reply_clock, MONDAY_10_UTC)).event_id


def test_breaches_of_different_clocks_have_different_event_ids(book: StandardsBook):
    clocks = clocks_for_new_case(book, complaint_email())
    assert len({breach_event(c).event_id for c in clocks}) == len(clocks)


def test_facts_of_a_case_carry_what_clocks_match_on():
    facts = facts_of(opened(flags=(Flag.DAMP_AND_MOULD,)))
    assert facts.event_type == "case.opened"
    assert (facts.channel, facts.mailbox, facts.kind, facts.priority) == ("email", "repairs", "repair_request", "routine")
    assert facts.flags == frozenset({"damp_and_mould"})
