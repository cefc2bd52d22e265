from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from shared.calendar import Unit
from shared.standards import (
    EventFacts,
    PackKind,
    StandardsBook,
    StandardsError,
    Subject,
    clocks_in_force,
    clocks_started_by,
    load_all,
    load_pack,
)
from shared.standards.loader import DEFAULT_DIRECTORY

AWAAB_CLOCKS = {
    "awaab_emergency_hazard",
    "awaab_damp_and_mould_investigation",
    "awaab_written_summary",
    "awaab_safety_work",
    "awaab_further_work_begun",
    "awaab_further_work_started_latest",
}


@pytest.fixture(scope="module")
def book() -> StandardsBook:
    return load_all()


# -- the shipped packs -----------------------------------------------------------------


def test_both_shipped_packs_load(book: StandardsBook) -> None:
    assert {(pack.id, pack.kind) for pack in book.packs} == {
        ("hexagon", PackKind.INTERNAL),
        ("statutory-england", PackKind.STATUTORY),
    }


@pytest.mark.parametrize(
    ("pack_id", "clock_id", "amount", "unit"),
    [
        # From the customer's documents (DESIGN §4)
        ("hexagon", "email_reply_repairs", 3, Unit.WORKING_DAYS),
        ("hexagon", "email_reply_customer_desk", 5, Unit.WORKING_DAYS),
        ("hexagon", "email_reply_complaints", 5, Unit.WORKING_DAYS),
        ("hexagon", "letter_reply", 10, Unit.WORKING_DAYS),
        ("hexagon", "callback", 5, Unit.WORKING_DAYS),
        ("hexagon", "home_visit", 5, Unit.WORKING_DAYS),
        ("hexagon", "home_visit_harassment_or_domestic_violence", 1, Unit.WORKING_DAYS),
        ("hexagon", "complaint_acknowledgement", 5, Unit.WORKING_DAYS),
        ("hexagon", "complaint_stage1_response", 10, Unit.WORKING_DAYS),
        ("hexagon", "complaint_stage2_response", 20, Unit.WORKING_DAYS),
        ("hexagon", "repair_booking_contact", 24, Unit.HOURS),
        ("hexagon", "pre_work_inspection", 10, Unit.WORKING_DAYS),
        ("hexagon", "works_order_confirmation", 24, Unit.HOURS),
        ("hexagon", "repair_completion_emergency", 24, Unit.HOURS),
        ("hexagon", "repair_completion_urgent", 7, Unit.CALENDAR_DAYS),
        ("hexagon", "repair_completion_routine", 28, Unit.CALENDAR_DAYS),
        ("hexagon", "appointment_reminder", 0, Unit.BEFORE_PREVIOUS_WORKING_DAY),
        ("hexagon", "satisfaction_contact", 24, Unit.HOURS),
        ("hexagon", "gas_safety_check", 12, Unit.MONTHS),
        ("hexagon", "gas_check_offer", 12, Unit.MONTHS),
        ("hexagon", "electrical_safety_check", 60, Unit.MONTHS),
        # Statutory overlay
        ("statutory-england", "complaint_stage1_acknowledgement", 5, Unit.WORKING_DAYS),
        ("statutory-england", "complaint_stage1_response", 10, Unit.WORKING_DAYS),
        ("statutory-england", "complaint_stage2_acknowledgement", 5, Unit.WORKING_DAYS),
        ("statutory-england", "complaint_stage2_response", 20, Unit.WORKING_DAYS),
        ("statutory-england", "awaab_emergency_hazard", 24, Unit.HOURS),
        ("statutory-england", "awaab_damp_and_mould_investigation", 10, Unit.WORKING_DAYS),
        ("statutory-england", "awaab_written_summary", 3, Unit.WORKING_DAYS),
        ("statutory-england", "awaab_safety_work", 5, Unit.WORKING_DAYS),
        ("statutory-england", "awaab_further_work_begun", 5, Unit.WORKING_DAYS),
        ("statutory-england", "awaab_further_work_started_latest", 84, Unit.CALENDAR_DAYS),
        ("statutory-england", "gas_safety_check", 12, Unit.MONTHS),
        ("statutory-england", "electrical_safety_check", 60, Unit.MONTHS),
    ],
)
def test_every_standard_has_its_target(
    book: StandardsBook, pack_id: str, clock_id: str, amount: int, unit: Unit
) -> None:
    standard = clocks_in_force(book.pack(pack_id), date(2026, 6, 1))
    assert standard is not None

    target = standard.clock(clock_id).target

    assert (target.amount, target.unit) == (amount, unit)


@pytest.mark.parametrize(
    ("clock_id", "amount"),
    [("complaint_stage1_response", 10), ("complaint_stage2_response", 20)],
)
def test_complaint_code_extensions(book: StandardsBook, clock_id: str, amount: int) -> None:
    standard = clocks_in_force(book.pack("statutory-england"), date(2026, 6, 1))
    assert standard is not None

    extension = standard.clock(clock_id).extension

    assert extension is not None
    assert (extension.amount, extension.unit) == (amount, Unit.WORKING_DAYS)


@pytest.mark.parametrize(
    ("pack_id", "first_clock", "chained_clock"),
    [
        ("statutory-england", "complaint_stage1_acknowledgement", "complaint_stage1_response"),
        ("statutory-england", "complaint_stage2_acknowledgement", "complaint_stage2_response"),
        ("statutory-england", "awaab_damp_and_mould_investigation", "awaab_written_summary"),
    ],
)
def test_chained_clocks_start_when_the_earlier_one_stops(
    book: StandardsBook, pack_id: str, first_clock: str, chained_clock: str
) -> None:
    standard = clocks_in_force(book.pack(pack_id), date(2026, 6, 1))
    assert standard is not None

    assert [clock.id for clock in standard.chained_from(first_clock)] == [chained_clock]


@pytest.mark.parametrize("priority", ["emergency", "urgent", "routine"])
def test_repair_completion_pauses_while_there_is_no_access(book: StandardsBook, priority: str) -> None:
    standard = clocks_in_force(book.pack("hexagon"), date(2026, 6, 1))
    assert standard is not None
    clock = standard.clock(f"repair_completion_{priority}")

    assert clock.is_paused_by(EventFacts("appointment.no_access"))
    assert clock.is_resumed_by(EventFacts("appointment.booked", kind="repair"))
    assert clock.is_stopped_by(EventFacts("appointment.completed", kind="repair"))
    assert not clock.is_stopped_by(EventFacts("appointment.completed", kind="inspection"))


def test_customer_electrical_cycle_is_superseded_by_the_law(book: StandardsBook) -> None:
    standard = clocks_in_force(book.pack("hexagon"), date(2026, 6, 1))
    assert standard is not None
    certificate = EventFacts("compliance.certificate_recorded", kind="electrical_installation")

    assert standard.clock("electrical_safety_check").superseded_by is not None
    assert _started(book, certificate, date(2026, 6, 1)) == {("statutory-england", "electrical_safety_check")}
    assert ("hexagon", "electrical_safety_check") in {
        (applicable.pack_id, applicable.clock.id)
        for applicable in clocks_started_by(book, certificate, date(2026, 6, 1), include_superseded=True)
    }


def test_property_clocks_are_about_properties(book: StandardsBook) -> None:
    subjects = {
        (pack.id, clock.id): clock.subject
        for pack in book.packs
        for standard in pack.standards_in_force()
        for clock in standard.clocks
    }

    property_clocks = {key for key, subject in subjects.items() if subject is Subject.PROPERTY}

    assert property_clocks == {
        ("hexagon", "gas_safety_check"),
        ("hexagon", "gas_check_offer"),
        ("hexagon", "fire_risk_assessment"),
        ("hexagon", "electrical_safety_check"),
        ("statutory-england", "gas_safety_check"),
        ("statutory-england", "electrical_safety_check"),
    }


def test_every_clock_names_its_source(book: StandardsBook) -> None:
    for pack in book.packs:
        for standard in pack.standards_in_force():
            for clock in standard.clocks:
                assert clock.source.document and clock.source.text, clock.id
                if pack.kind is PackKind.INTERNAL:
                    assert clock.source.verbatim, f"{clock.id} should quote the customer's sentence"


def test_a_target_computes_its_own_deadline(book: StandardsBook) -> None:
    standard = clocks_in_force(book.pack("hexagon"), date(2026, 3, 9))
    assert standard is not None
    monday_morning = datetime(2026, 3, 9, 10, tzinfo=UTC)

    assert standard.clock("email_reply_repairs").target.due(monday_morning) == datetime(2026, 3, 12, 17, tzinfo=UTC)
    assert standard.clock("appointment_reminder").target.due(monday_morning) == datetime(2026, 3, 6, 17, tzinfo=UTC)


# -- which version is in force -----------------------------------------------------------


@pytest.mark.parametrize(
    ("pack_id", "day", "effective_from"),
    [
        ("hexagon", date(2023, 12, 31), None),
        ("hexagon", date(2024, 1, 1), date(2024, 1, 1)),
        ("statutory-england", date(2024, 3, 31), None),
        ("statutory-england", date(2024, 4, 1), date(2024, 4, 1)),
        ("statutory-england", date(2025, 10, 26), date(2024, 4, 1)),
        ("statutory-england", date(2025, 10, 27), date(2025, 10, 27)),
        ("statutory-england", date(2025, 12, 1), date(2025, 12, 1)),
    ],
)
def test_version_in_force_on_a_date(
    book: StandardsBook, pack_id: str, day: date, effective_from: date | None
) -> None:
    standard = clocks_in_force(book.pack(pack_id), day)

    assert (standard.effective_from if standard else None) == effective_from


def test_a_case_opened_before_awaabs_law_gets_no_awaab_clocks(book: StandardsBook) -> None:
    before = clocks_in_force(book.pack("statutory-england"), date(2025, 10, 1))
    after = clocks_in_force(book.pack("statutory-england"), date(2025, 10, 28))
    assert before is not None and after is not None

    assert not AWAAB_CLOCKS & {clock.id for clock in before.clocks}
    assert AWAAB_CLOCKS <= {clock.id for clock in after.clocks}
    assert {clock.id for clock in before.clocks} < {clock.id for clock in after.clocks}


def test_damp_and_mould_starts_the_awaab_clock_only_from_27_october_2025(book: StandardsBook) -> None:
    damp = EventFacts("case.opened", channel="phone", kind="repair_request", flags=frozenset({"damp_and_mould"}))

    assert ("statutory-england", "awaab_damp_and_mould_investigation") not in _started(book, damp, date(2025, 10, 1))
    assert ("statutory-england", "awaab_damp_and_mould_investigation") in _started(book, damp, date(2025, 10, 28))


# -- which clocks an event starts -------------------------------------------------------


def _started(book: StandardsBook, facts: EventFacts, on: date) -> set[tuple[str, str]]:
    return {(applicable.pack_id, applicable.clock.id) for applicable in clocks_started_by(book, facts, on)}


ON = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(
            EventFacts("case.opened", channel="email", mailbox="repairs", kind="repair_request", priority="routine"),
            {
                ("hexagon", "email_reply_repairs"),
                ("hexagon", "repair_booking_contact"),
                ("hexagon", "repair_completion_routine"),
            },
            id="repair by email",
        ),
        pytest.param(
            EventFacts("case.opened", channel="letter", kind="general_enquiry"),
            {("hexagon", "letter_reply")},
            id="letter",
        ),
        pytest.param(
            EventFacts("case.opened", channel="letter", kind="complaint"),
            {
                ("hexagon", "complaint_acknowledgement"),
                ("hexagon", "complaint_stage1_response"),
                ("statutory-england", "complaint_stage1_acknowledgement"),
            },
            id="complaint by letter follows the complaint clocks",
        ),
        pytest.param(
            EventFacts("case.opened", channel="email", mailbox="complaints", kind="complaint"),
            {
                ("hexagon", "email_reply_complaints"),
                ("hexagon", "complaint_acknowledgement"),
                ("hexagon", "complaint_stage1_response"),
                ("statutory-england", "complaint_stage1_acknowledgement"),
            },
            id="complaint by email",
        ),
        pytest.param(
            EventFacts("complaint.escalated"),
            {("hexagon", "complaint_stage2_response"), ("statutory-england", "complaint_stage2_acknowledgement")},
            id="escalation",
        ),
        pytest.param(
            EventFacts("case.opened", channel="phone", kind="home_visit"),
            {("hexagon", "home_visit")},
            id="home visit",
        ),
        pytest.param(
            EventFacts("case.opened", channel="phone", kind="home_visit", flags=frozenset({"safeguarding"})),
            {("hexagon", "home_visit_harassment_or_domestic_violence")},
            id="home visit about harassment",
        ),
        pytest.param(EventFacts("callback.requested"), {("hexagon", "callback")}, id="callback"),
        pytest.param(EventFacts("callback.requested", priority="emergency"), set(), id="emergency callback"),
        pytest.param(
            EventFacts("case.opened", channel="phone", kind="repair_request", priority="emergency"),
            {("hexagon", "repair_completion_emergency")},
            id="emergency repair by phone",
        ),
        pytest.param(
            EventFacts("appointment.booked", kind="repair"),
            {("hexagon", "appointment_reminder")},
            id="appointment booked",
        ),
        pytest.param(
            EventFacts("hazard.investigated", flags=frozenset({"significant_hazard", "further_work_needed"})),
            {
                ("statutory-england", "awaab_safety_work"),
                ("statutory-england", "awaab_further_work_begun"),
                ("statutory-england", "awaab_further_work_started_latest"),
            },
            id="hazard investigated",
        ),
        pytest.param(
            EventFacts("compliance.certificate_recorded", kind="gas_safety"),
            {
                ("hexagon", "gas_safety_check"),
                ("hexagon", "gas_check_offer"),
                ("statutory-england", "gas_safety_check"),
            },
            id="gas certificate",
        ),
    ],
)
def test_clocks_started_by_an_event(book: StandardsBook, facts: EventFacts, expected: set[tuple[str, str]]) -> None:
    assert _started(book, facts, ON) == expected


@pytest.mark.parametrize(
    ("facts", "clock_id", "amount"),
    [
        (EventFacts("case.opened", channel="email", mailbox="repairs"), "email_reply_repairs", 3),
        (EventFacts("case.opened", channel="letter"), "letter_reply", 10),
    ],
)
def test_lookup_returns_the_clock_definition(book: StandardsBook, facts: EventFacts, clock_id: str, amount: int) -> None:
    [applicable] = clocks_started_by(book, facts, ON)

    assert applicable.pack_id == "hexagon"
    assert applicable.pack_kind is PackKind.INTERNAL
    assert applicable.effective_from == date(2024, 1, 1)
    assert applicable.clock.id == clock_id
    assert (applicable.clock.target.amount, applicable.clock.target.unit) == (amount, Unit.WORKING_DAYS)


# -- bad files ---------------------------------------------------------------------------

VALID_PACK = """\
id = "test-pack"
title = "A pack for tests"
kind = "internal"

[[versions]]
effective_from = 2024-01-01

[[versions.clocks]]
id = "first_reply"
name = "First reply"
starts_on = { event = "case.opened" }
stops_on = [{ event = "case.replied" }]
target = { amount = 3, unit = "working_days" }
source = { document = "test", text = "We reply within 3 working days." }

[[versions.clocks]]
id = "full_answer"
name = "Full answer"
chains_from = "first_reply"
stops_on = [{ event = "case.closed" }]
target = { amount = 10, unit = "working_days" }
source = { document = "test", text = "We answer within 10 working days of replying." }
"""


def _write(tmp_path: Path, text: str, name: str = "pack.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line(text: str, fragment: str, occurrence: int = 1) -> int:
    numbers = [number for number, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return numbers[occurrence - 1]


def test_the_valid_pack_loads(tmp_path: Path) -> None:
    pack = load_pack(_write(tmp_path, VALID_PACK))

    assert [clock.id for clock in pack.versions[0].clocks] == ["first_reply", "full_answer"]


def _second_version(*, effective_from: str, extra: str = "") -> str:
    return VALID_PACK + f"""
[[versions]]
effective_from = {effective_from}
builds_on_previous = true
{extra}
[[versions.clocks]]
id = "first_reply"
name = "First reply"
starts_on = {{ event = "case.opened" }}
stops_on = [{{ event = "case.replied" }}]
target = {{ amount = 2, unit = "working_days" }}
source = {{ document = "test", text = "We now reply within 2 working days." }}
"""


@pytest.mark.parametrize(
    ("text", "fragment", "occurrence", "field", "message"),
    [
        pytest.param(
            VALID_PACK.replace('amount = 10, unit = "working_days"', "amount = 10, unit = working_days"),
            "unit = working_days",
            1,
            "versions[0].clocks[1].target",
            "TOML syntax: Invalid value",
            id="syntax error",
        ),
        pytest.param(
            VALID_PACK.replace('amount = 10, unit = "working_days"', 'amount = 10, unit = "fortnights"'),
            '"fortnights"',
            1,
            "versions[0].clocks[1].target.unit",
            "Input should be 'hours', 'calendar_days', 'working_days', 'months' or 'before_previous_working_day'",
            id="unknown unit",
        ),
        pytest.param(
            VALID_PACK.replace('target = { amount = 3, unit = "working_days" }\n', ""),
            "[[versions.clocks]]",
            1,
            "versions[0].clocks[0].target",
            "Field required",
            id="missing field",
        ),
        pytest.param(
            VALID_PACK.replace('id = "full_answer"', 'id = "first_reply"').replace(
                'chains_from = "first_reply"', 'starts_on = { event = "case.opened" }'
            ),
            'id = "first_reply"',
            2,
            "versions[0].clocks[1].id",
            "clock id 'first_reply' is used twice in this version",
            id="duplicate clock id",
        ),
        pytest.param(
            VALID_PACK.replace('chains_from = "first_reply"', 'chains_from = "no_such_clock"'),
            "chains_from",
            1,
            "versions[0].clocks[1].chains_from",
            "chains from 'no_such_clock', which is not a clock in this version",
            id="dangling chains_from",
        ),
        pytest.param(
            _second_version(effective_from="2024-01-01"),
            "effective_from = 2024-01-01",
            2,
            "versions[1].effective_from",
            "2024-01-01 is not after the previous version's 2024-01-01",
            id="effective dates not increasing",
        ),
        pytest.param(
            _second_version(effective_from="2025-01-01", extra='withdraws = ["never_existed"]\n'),
            "withdraws",
            1,
            "versions[1].withdraws[0]",
            "withdraws 'never_existed', which the previous version does not have",
            id="withdrawing an unknown clock",
        ),
        pytest.param(
            VALID_PACK.replace('name = "First reply"', 'name = "First reply"\ntargte = 3'),
            "targte",
            1,
            "versions[0].clocks[0].targte",
            "Extra inputs are not permitted",
            id="misspelt key",
        ),
        pytest.param(
            VALID_PACK.replace('amount = 3, unit = "working_days"', 'amount = 3, unit = "before_previous_working_day"'),
            "before_previous_working_day",
            1,
            "versions[0].clocks[0].target.amount",
            "must be 0 when unit is 'before_previous_working_day'",
            id="amount that does not fit the unit",
        ),
        pytest.param(
            VALID_PACK.replace('name = "First reply"', 'name = "First reply"\nwarnings = [0.75, 0.5]'),
            "warnings",
            1,
            "versions[0].clocks[0].warnings",
            "warning points must be strictly increasing",
            id="warnings out of order",
        ),
        pytest.param(
            VALID_PACK.replace('chains_from = "first_reply"\n', ""),
            "[[versions.clocks]]",
            2,
            "versions[0].clocks[1].starts_on",
            "a clock needs exactly one of starts_on or chains_from",
            id="nothing starts the clock",
        ),
    ],
)
def test_a_bad_file_names_file_line_and_field(
    tmp_path: Path, text: str, fragment: str, occurrence: int, field: str, message: str
) -> None:
    path = _write(tmp_path, text, name="bad_pack.toml")

    with pytest.raises(StandardsError) as raised:
        load_pack(path)

    [problem] = raised.value.problems
    assert (problem.file, problem.line, problem.field, problem.message) == (
        path,
        _line(text, fragment, occurrence),
        field,
        message,
    )
    assert f"bad_pack.toml, line {problem.line}" in str(raised.value)
    assert f"{field}: {message}" in str(raised.value)


def test_a_syntax_error_reports_the_column_too(tmp_path: Path) -> None:
    path = _write(tmp_path, 'id = "x"\ntitle = \n', name="broken.toml")

    with pytest.raises(StandardsError, match=r"broken\.toml, line 2, column \d+: title: TOML syntax"):
        load_pack(path)


def test_a_version_can_build_on_the_previous_one(tmp_path: Path) -> None:
    pack = load_pack(_write(tmp_path, _second_version(effective_from="2025-01-01")))

    old = clocks_in_force(pack, date(2024, 6, 1))
    new = clocks_in_force(pack, date(2025, 6, 1))
    assert old is not None and new is not None

    assert old.clock("first_reply").target.amount == 3
    assert new.clock("first_reply").target.amount == 2
    assert new.clock("full_answer").target.amount == 10


def test_load_all_reports_every_bad_file_and_duplicate_pack_ids(tmp_path: Path) -> None:
    _write(tmp_path, VALID_PACK, name="a.toml")
    _write(tmp_path, VALID_PACK, name="b.toml")
    _write(tmp_path, VALID_PACK.replace('unit = "working_days"', 'unit = "weeks"', 1), name="c.toml")

    with pytest.raises(StandardsError) as raised:
        load_all(tmp_path)

    reported = {(problem.file.name, problem.line, problem.field) for problem in raised.value.problems}
    assert reported == {("b.toml", 1, "id"), ("c.toml", 13, "versions[0].clocks[0].target.unit")}


def test_a_directory_without_packs_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StandardsError, match="holds no standards files"):
        load_all(tmp_path)


def test_the_default_directory_is_the_shipped_one() -> None:
    assert {path.name for path in DEFAULT_DIRECTORY.glob("*.toml")} == {"hexagon.toml", "statutory_england.toml"}
