"""`doorstep watch breaches`: one line per breach, warning or late "met", coloured by
severity, with the case reference, the clock in words and how late in working days."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.events import serialize
from shared.events.cases import CaseKind, CaseOpened, Channel
from shared.events.sla import ClockEvent, Obligation, SlaBreached, SlaMet, SlaWarning, SubjectType
from shared.topics import Topic
from services.cli.watch import (
    BOLD_RED,
    GREEN,
    RED,
    RESET,
    YELLOW,
    clock_in_words,
    describe,
    describe_clock_event,
    late_by,
    once_each,
    view,
    working_days_late,
)

CASE_ID = "5b0f6a3e-8f0e-4c1e-9d43-1c2b3a4d5e6f"
TUESDAY_CLOSE = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 17:00 London (GMT) on Tuesday 1 December
THURSDAY_EVENING = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)


def ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def fields(obligation: Obligation = Obligation.STATUTORY, deadline: datetime = TUESDAY_CLOSE) -> dict[str, object]:
    return {
        "correlation_id": CASE_ID,
        "clock_id": f"statutory-england:complaint_stage1_response:{CASE_ID}",
        "clock": "complaint_stage1_response",
        "clock_name": "Respond to a Stage 1 complaint",
        "subject_type": SubjectType.CASE,
        "subject_id": CASE_ID,
        "reference": "HX-ABCD2345",
        "standard": "statutory-england@2024-04-01",
        "obligation": obligation,
        "source": "Housing Ombudsman Complaint Handling Code 6.5",
        "started_at": deadline - timedelta(days=14),
        "deadline": deadline,
    }


def line_of(event: ClockEvent, at: datetime, colour: bool = False) -> str | None:
    return describe_clock_event(event.key(), serialize(event), ms(at), colour)


@pytest.mark.parametrize(
    "definition, words",
    [
        ("complaint_stage1_response", "complaint Stage 1 response"),
        ("complaint_stage2_acknowledgement", "complaint Stage 2 acknowledgement"),
        ("awaab_damp_and_mould_investigation", "Awaab's Law damp and mould investigation"),
        ("repair_completion_emergency", "repair completion emergency"),
    ],
)
def test_a_clock_in_words(definition: str, words: str):
    assert clock_in_words(definition) == words


@pytest.mark.parametrize(
    "deadline, moment, days",
    [
        (TUESDAY_CLOSE, TUESDAY_CLOSE + timedelta(hours=3), 0),
        (TUESDAY_CLOSE, datetime(2026, 12, 2, 17, 0, tzinfo=UTC), 1),  # Wednesday's close
        (TUESDAY_CLOSE, datetime(2026, 12, 3, 10, 0, tzinfo=UTC), 1),
        (TUESDAY_CLOSE, THURSDAY_EVENING, 2),
        # Friday's close, then a weekend: Monday's close is the first working day to end.
        (datetime(2026, 12, 4, 17, tzinfo=UTC), datetime(2026, 12, 7, 16, tzinfo=UTC), 0),
        (datetime(2026, 12, 4, 17, tzinfo=UTC), datetime(2026, 12, 8, 9, tzinfo=UTC), 1),
        # Christmas Day and the Boxing Day substitute (Monday 28th) are not working days.
        (datetime(2026, 12, 24, 17, tzinfo=UTC), datetime(2026, 12, 28, 18, tzinfo=UTC), 0),
        (datetime(2026, 12, 24, 17, tzinfo=UTC), datetime(2026, 12, 29, 18, tzinfo=UTC), 1),
    ],
)
def test_working_days_late_count_the_working_days_ended_since_the_deadline(deadline, moment, days):  # type: ignore[no-untyped-def]
    assert working_days_late(deadline, moment) == days


@pytest.mark.parametrize(
    "moment, words",
    [
        (TUESDAY_CLOSE, "on time"),
        (TUESDAY_CLOSE + timedelta(seconds=20), "deadline just passed"),
        (TUESDAY_CLOSE + timedelta(minutes=7), "7 min late"),
        (TUESDAY_CLOSE + timedelta(hours=3, minutes=30), "3 h 30 min late"),
        (datetime(2026, 12, 2, 17, 0, tzinfo=UTC), "1 working day late"),
        (THURSDAY_EVENING, "2 working days late"),
    ],
)
def test_late_by_in_words(moment: datetime, words: str):
    assert late_by(TUESDAY_CLOSE, moment) == words


def test_a_statutory_breach_is_bold_red_with_reference_clock_and_lateness():
    line = line_of(SlaBreached(**fields()), THURSDAY_EVENING, colour=True)
    assert line is not None
    assert line.startswith(BOLD_RED)
    assert line.endswith(RESET)
    assert "BREACH" in line
    assert "HX-ABCD2345  complaint Stage 1 response  2 working days late" in line
    assert "due 17:00 Tue 1 Dec" in line
    assert "[legal limit]" in line
    assert "\n" not in line


def test_an_internal_breach_is_plain_red():
    line = line_of(SlaBreached(**fields(Obligation.INTERNAL)), TUESDAY_CLOSE + timedelta(seconds=1), colour=True)
    assert line is not None
    assert line.startswith(RED)
    assert not line.startswith(BOLD_RED)
    assert "deadline just passed" in line
    assert "[internal target]" in line


def test_a_warning_is_yellow_and_says_when_the_clock_is_due():
    warning = SlaWarning(point="75%", at_fraction=0.75, **fields())
    line = line_of(warning, TUESDAY_CLOSE - timedelta(days=3), colour=True)
    assert line is not None
    assert line.startswith(YELLOW)
    assert "WARNING" in line
    assert "HX-ABCD2345  complaint Stage 1 response  due 17:00 Tue 1 Dec (75%)" in line


def test_a_breached_clock_met_late_is_green_with_how_late_it_was():
    met = SlaMet(
        stopped_at=THURSDAY_EVENING,
        working_time_used=timedelta(hours=90),
        late_by=THURSDAY_EVENING - TUESDAY_CLOSE,
        **fields(),
    )
    line = line_of(met, THURSDAY_EVENING, colour=True)
    assert line is not None
    assert line.startswith(GREEN)
    assert "MET LATE" in line
    assert "complaint Stage 1 response  met 2 working days late" in line


def test_a_clock_met_in_time_is_left_out():
    met = SlaMet(stopped_at=TUESDAY_CLOSE, working_time_used=timedelta(hours=70), **fields())
    assert line_of(met, TUESDAY_CLOSE) is None


def test_without_a_terminal_there_is_no_colour():
    line = line_of(SlaBreached(**fields()), THURSDAY_EVENING, colour=False)
    assert line is not None
    assert "\x1b" not in line
    assert line.startswith("2026-12-03 17:30:00  BREACH")  # London time: GMT in December


def test_other_records_fall_back_to_the_plain_description():
    case = CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference="HX-ABCD2345",
        channel=Channel.LETTER,
        kind=CaseKind.LETTER,
        received_at=TUESDAY_CLOSE,
    )
    assert describe_clock_event(case.key(), serialize(case), ms(TUESDAY_CLOSE)) == describe(
        case.key(), serialize(case), ms(TUESDAY_CLOSE)
    )
    assert "not JSON" in (describe_clock_event(b"k", b"\xff\xfe", ms(TUESDAY_CLOSE)) or "")


def test_the_breaches_view_tails_breaches_warnings_and_outcomes():
    topics, _ = view("breaches", colour=False)
    assert topics == (Topic.SLA_BREACHES, Topic.SLA_WARNINGS, Topic.SLA_OUTCOMES)


def test_any_other_name_is_one_topic_described_plainly():
    topics, line = view(Topic.CASES, colour=True)
    assert topics == (Topic.CASES,)
    assert line is describe


def test_the_breaches_view_shows_a_record_delivered_twice_once():
    _, line = view("breaches", colour=False)
    breach = SlaBreached(**fields())
    at = ms(THURSDAY_EVENING)
    first = line(breach.key(), serialize(breach), at)
    assert first is not None and "BREACH" in first
    assert line(breach.key(), serialize(breach), at + 50) is None  # the same event id again
    another = SlaBreached(**fields(deadline=TUESDAY_CLOSE + timedelta(days=1)))
    assert line(another.key(), serialize(another), at) is not None


def test_only_the_latest_ids_are_remembered():
    line = once_each(lambda key, value, at: "shown", remember=2)
    records = [serialize(SlaBreached(**fields(deadline=TUESDAY_CLOSE + timedelta(days=n)))) for n in range(3)]
    assert [line(b"k", r, 0) for r in records] == ["shown"] * 3
    assert line(b"k", records[0], 0) == "shown"  # forgotten: the two after it pushed it out
    assert line(b"k", records[2], 0) is None
    assert line(b"k", b"not json", 0) == "shown" and line(b"k", b"not json", 0) == "shown"
