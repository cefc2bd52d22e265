"""The performance figures of one period, from rows, each checked against numbers worked
out by hand (DESIGN §5)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.events.cases import CaseKind, Priority
from shared.events.feedback import Aspect
from shared.events.sla import Obligation
from services.sla_monitor.reporting.figures import (
    anti_social_behaviour,
    build_report,
    clock_figures,
    complaints,
    completed_jobs,
    gas_due_date,
    gas_safety,
    inspections,
    rent_credits,
    repairs,
    satisfaction,
)
from services.sla_monitor.reporting.periods import parse_period
from services.sla_monitor.reporting.report import Tsm
from services.sla_monitor.reporting.rows import (
    ClockRow,
    Escalation,
    Facts,
    GasCheck,
    Inspection,
    OpenedCase,
    RentCredit,
    RepairVisit,
    SurveyScore,
)
from services.sla_monitor.reporting.table import Unit, lines, raw, shown

Q3 = parse_period("2026Q3")
IN_Q2 = datetime(2026, 6, 15, 9, tzinfo=UTC)
IN_Q4 = datetime(2026, 10, 15, 9, tzinfo=UTC)


def q3(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def opened(case_id: str, kind: CaseKind, at: datetime, priority: Priority | None = None) -> OpenedCase:
    return OpenedCase(case_id, kind, priority, at)


def clock(
    definition: str,
    state: str,
    *,
    obligation: Obligation = Obligation.INTERNAL,
    deadline: datetime = q3(8, 1),
    stopped_at: datetime | None = None,
    breached_at: datetime | None = None,
) -> ClockRow:
    return ClockRow(definition, definition.replace("_", " "), obligation, deadline, state, stopped_at, breached_at)


# -- complaints and anti-social behaviour -----------------------------------------------

COMPLAINTS = Facts(
    cases=(
        opened("c1", CaseKind.COMPLAINT, q3(7, 2)),
        opened("c1", CaseKind.COMPLAINT, q3(7, 2)),  # the same case told twice
        opened("c2", CaseKind.COMPLAINT, q3(9, 30, 22)),  # 23:00 BST on the last day
        opened("c3", CaseKind.COMPLAINT, datetime(2026, 6, 30, 23, 30, tzinfo=UTC)),  # 00:30 BST 1 July
        opened("c4", CaseKind.COMPLAINT, datetime(2026, 6, 30, 22, 30, tzinfo=UTC)),  # 23:30 BST 30 June: Q2
        opened("c5", CaseKind.COMPLAINT, q3(9, 30, 23)),  # 00:00 BST 1 October: Q4
        opened("r1", CaseKind.REPAIR_REQUEST, q3(7, 2)),
        opened("a1", CaseKind.ANTI_SOCIAL_BEHAVIOUR, q3(7, 3)),
        opened("a2", CaseKind.ANTI_SOCIAL_BEHAVIOUR, q3(8, 3)),
        opened("a3", CaseKind.ANTI_SOCIAL_BEHAVIOUR, IN_Q4),
    ),
    escalations=(
        Escalation("c1", q3(8, 20)),
        Escalation("c9", q3(9, 1)),
        Escalation("c8", IN_Q2),
    ),
)


def test_complaints_are_counted_in_the_period_they_were_received_and_per_1000_homes():
    found = complaints(COMPLAINTS, Q3, homes=2000)
    assert found.stage_1_received.count == 3  # c1, c2, c3
    assert found.stage_1_received.per_1000_homes == 1.5
    assert found.stage_1_received.tsm is Tsm.CH01_STAGE_1
    assert found.stage_2_received.count == 2  # escalations of c1 and c9
    assert found.stage_2_received.per_1000_homes == 1.0
    assert found.stage_2_received.tsm is Tsm.CH01_STAGE_2


def test_without_the_number_of_homes_there_is_no_rate():
    found = complaints(COMPLAINTS, Q3, homes=0)
    assert found.stage_1_received.count == 3
    assert found.stage_1_received.per_1000_homes is None


def test_anti_social_behaviour_cases_per_1000_homes():
    found = anti_social_behaviour(COMPLAINTS, Q3, homes=400)
    assert (found.count, found.per_1000_homes, found.tsm) == (2, 5.0, Tsm.NM01)


# -- clocks -----------------------------------------------------------------------------

DEADLINE = q3(8, 1)
STAGE_1 = "complaint_stage1_response"
STATUTORY_STAGE_1 = [
    clock(STAGE_1, "met", obligation=Obligation.STATUTORY, stopped_at=DEADLINE),  # in time, to the second
    clock(STAGE_1, "met", obligation=Obligation.STATUTORY, stopped_at=DEADLINE + timedelta(seconds=1)),  # late
    clock(STAGE_1, "met", obligation=Obligation.STATUTORY, stopped_at=q3(8, 9), breached_at=DEADLINE),  # late
    clock(STAGE_1, "breached", obligation=Obligation.STATUTORY, breached_at=DEADLINE),  # breached, open
    clock(STAGE_1, "paused", obligation=Obligation.STATUTORY, breached_at=DEADLINE),  # breached, open
    clock(STAGE_1, "met", obligation=Obligation.STATUTORY, stopped_at=IN_Q2),  # another period
    clock(STAGE_1, "breached", obligation=Obligation.STATUTORY, breached_at=IN_Q4),  # another period
    clock(STAGE_1, "cancelled", obligation=Obligation.STATUTORY, stopped_at=q3(8, 2), breached_at=DEADLINE),
    clock(STAGE_1, "running", obligation=Obligation.STATUTORY),
]
CLOCKS = (
    *STATUTORY_STAGE_1,
    clock(STAGE_1, "met", stopped_at=q3(7, 20)),  # the internal target, in time
    clock("complaint_stage2_response", "met", obligation=Obligation.STATUTORY, stopped_at=q3(7, 20)),
    clock("gas_safety_check", "breached", breached_at=q3(9, 1)),
)


def test_each_clock_counts_what_stopped_in_time_late_or_breached_and_is_still_open():
    figures = {(f.obligation, f.definition): f for f in clock_figures(CLOCKS, Q3)}
    assert set(figures) == {
        (Obligation.INTERNAL, STAGE_1),
        (Obligation.INTERNAL, "gas_safety_check"),
        (Obligation.STATUTORY, STAGE_1),
        (Obligation.STATUTORY, "complaint_stage2_response"),
    }
    statutory = figures[(Obligation.STATUTORY, STAGE_1)]
    assert (statutory.in_time, statutory.late, statutory.breached_open) == (1, 2, 2)
    assert (statutory.share_in_time.count, statutory.share_in_time.out_of) == (1, 5)
    assert statutory.share_in_time.percent == 20.0
    assert statutory.name == "complaint stage1 response"
    internal = figures[(Obligation.INTERNAL, STAGE_1)]
    assert (internal.in_time, internal.late, internal.breached_open, internal.share_in_time.percent) == (1, 0, 0, 100.0)
    gas = figures[(Obligation.INTERNAL, "gas_safety_check")]
    assert (gas.in_time, gas.breached_open, gas.share_in_time.percent) == (0, 1, 0.0)


def test_clock_rows_come_in_a_steady_order():
    figures = clock_figures(CLOCKS, Q3)
    assert [(f.obligation, f.definition) for f in figures] == sorted((f.obligation, f.definition) for f in figures)


def test_complaint_responses_in_time_use_the_statutory_clocks_that_stopped():
    """CH02: responses made in the period within the Code's timescale, out of all responses."""
    found = complaints(Facts(clocks=CLOCKS), Q3, homes=0)
    stage_1 = found.stage_1_responded_in_time
    assert (stage_1.count, stage_1.out_of, stage_1.percent, stage_1.tsm) == (1, 3, 33.3, Tsm.CH02_STAGE_1)
    stage_2 = found.stage_2_responded_in_time
    assert (stage_2.count, stage_2.out_of, stage_2.percent, stage_2.tsm) == (1, 1, 100.0, Tsm.CH02_STAGE_2)


# -- repairs ----------------------------------------------------------------------------

REPAIR_CLOCKS = (
    clock("repair_completion_emergency", "met", deadline=q3(7, 31), stopped_at=q3(7, 31, 8)),
    clock("repair_completion_emergency", "met", deadline=q3(7, 31), stopped_at=q3(7, 31, 10)),  # late
    clock("repair_completion_emergency", "breached", breached_at=q3(8, 2)),  # not completed: not counted
    clock("repair_completion_urgent", "met", stopped_at=q3(7, 5)),
    clock("repair_completion_routine", "met", stopped_at=q3(7, 6)),
    clock("repair_completion_routine", "met", stopped_at=q3(7, 7)),
    clock("repair_completion_routine", "met", stopped_at=q3(8, 7)),  # late
    clock("repair_completion_routine", "met", stopped_at=IN_Q4),  # another period
)
REPAIRS = Facts(
    cases=(
        opened("r1", CaseKind.REPAIR_REQUEST, q3(7, 1)),
        opened("r2", CaseKind.REPAIR_REQUEST, q3(7, 5)),
        opened("r6", CaseKind.REPAIR_REQUEST, datetime(2026, 6, 20, 9, tzinfo=UTC)),  # received in Q2
    ),
    repair_visits=(
        RepairVisit("r1", "a1", q3(7, 3), True),  # 2 days, fixed at the first visit
        RepairVisit("r1", "a1", q3(7, 3), True),  # the same visit told twice
        RepairVisit("r2", "a2", q3(7, 10), False),
        RepairVisit("r2", "a3", q3(7, 20), True),  # 15 days, two visits
        RepairVisit("r3", "a4", q3(9, 1), True),
        RepairVisit("r3", "a5", IN_Q4, True),  # r3's last visit is in Q4
        RepairVisit("r4", "a6", IN_Q2, True),
        RepairVisit("r5", "a7", q3(8, 1), False),  # one visit, not fixed; opened before records began
        RepairVisit("r6", "a8", q3(7, 2), True),  # 12 days, across the quarter's start
    ),
    clocks=REPAIR_CLOCKS,
)


def test_a_repair_job_completes_at_its_last_visit():
    assert sorted(completed_jobs(REPAIRS.repair_visits, Q3)) == ["r1", "r2", "r5", "r6"]
    assert sorted(completed_jobs(REPAIRS.repair_visits, parse_period("2026Q4"))) == ["r3"]


def test_repairs_within_target_emergency_and_non_emergency_separately():
    found = repairs(REPAIRS, Q3, completed_jobs(REPAIRS.repair_visits, Q3))
    emergency = found.emergency_within_target
    assert (emergency.count, emergency.out_of, emergency.percent, emergency.tsm) == (1, 2, 50.0, Tsm.RP02_EMERGENCY)
    other = found.non_emergency_within_target
    assert (other.count, other.out_of, other.percent, other.tsm) == (3, 4, 75.0, Tsm.RP02_NON_EMERGENCY)


def test_fixed_at_first_visit_and_end_to_end_time():
    found = repairs(REPAIRS, Q3, completed_jobs(REPAIRS.repair_visits, Q3))
    assert found.completed == 4
    fixed = found.fixed_first_visit
    assert (fixed.count, fixed.out_of, fixed.percent) == (2, 4, 50.0)  # r1 and r6
    assert found.end_to_end_measured == 3  # r5 has no case.opened on record
    assert found.average_end_to_end_days == pytest.approx((2 + 15 + 12) / 3, abs=0.05)
    assert found.average_end_to_end_days == 9.7


def test_no_repairs_means_no_average():
    found = repairs(Facts(), Q3, {})
    assert found.average_end_to_end_days is None
    assert found.fixed_first_visit.percent is None
    assert found.emergency_within_target.percent is None


# -- gas safety -------------------------------------------------------------------------

GAS = Facts(
    gas_checks=(
        GasCheck("p1", date(2025, 10, 15)),  # due 15 Oct 2026: in date on 30 Sep
        GasCheck("p2", date(2025, 9, 29)),  # due 29 Sep 2026: lapsed the day before the end
        GasCheck("p3", date(2025, 9, 30)),  # due 30 Sep 2026: in date on the last day
        GasCheck("p4", date(2024, 10, 20)),  # due 20 Oct 2025 ...
        GasCheck("p4", date(2025, 9, 1)),  # ... checked in the two months before: due 20 Oct 2026
        GasCheck("p5", date(2026, 10, 5)),  # first checked after the period: not counted
        GasCheck("p6", date(2026, 10, 2)),  # after the period ...
        GasCheck("p6", date(2024, 1, 1)),  # ... so this one decides: due 1 Jan 2025, lapsed
    )
)


def test_an_early_check_in_the_two_month_window_keeps_the_due_date():
    assert gas_due_date([date(2024, 10, 20), date(2025, 9, 1)]) == date(2026, 10, 20)
    assert gas_due_date([date(2025, 9, 1), date(2024, 10, 20)]) == date(2026, 10, 20)  # any order
    assert gas_due_date([date(2024, 10, 20), date(2025, 8, 1)]) == date(2026, 8, 1)  # too early: reset
    assert gas_due_date([]) is None


def test_gas_safety_counts_homes_in_date_on_the_last_day_of_the_period():
    found = gas_safety(GAS, Q3)
    assert (found.count, found.out_of, found.percent, found.tsm) == (3, 5, 60.0, Tsm.BS01)


# -- money, inspections, satisfaction ---------------------------------------------------


def test_rent_credits_in_the_period():
    facts = Facts(
        rent_credits=(
            RentCredit("r1", "a1", 1000, q3(7, 4)),
            RentCredit("r2", "a2", 1000, q3(8, 4)),
            RentCredit("r3", "a3", 1000, q3(9, 4)),
            RentCredit("r4", "a4", 1000, IN_Q4),
        )
    )
    found = rent_credits(facts, Q3)
    assert (found.count, found.total_pence) == (3, 3000)


def test_post_inspections_against_the_five_percent_target():
    facts = Facts(
        inspections=(
            Inspection("r1", q3(7, 20), high_value_or_complex=True, passed=True),
            Inspection("r2", q3(8, 20), high_value_or_complex=False, passed=False),
            Inspection("r2", q3(8, 27), high_value_or_complex=False, passed=True),  # inspected again
            Inspection("r3", IN_Q4, high_value_or_complex=True, passed=True),
        )
    )
    found = inspections(facts, Q3, completed=4)
    assert (found.sample.count, found.sample.out_of, found.sample.percent) == (2, 4, 50.0)
    assert found.target_percent == 5.0
    assert found.target_met is True
    assert found.high_value_or_complex_inspected == 1
    assert (found.passed.count, found.passed.out_of, found.passed.percent) == (2, 3, 66.7)


@pytest.mark.parametrize("inspected, completed, met", [(2, 40, True), (1, 40, False), (1, 21, False), (0, 0, None)])
def test_the_sampling_target_is_five_percent_exactly(inspected: int, completed: int, met: bool | None):
    facts = Facts(inspections=tuple(Inspection(f"r{n}", q3(7, 20), False, True) for n in range(inspected)))
    assert inspections(facts, Q3, completed).target_met is met


def test_satisfaction_by_aspect_counts_4_and_5_as_satisfied():
    facts = Facts(
        survey_scores=(
            SurveyScore("s1", Aspect.OVERALL, 5, q3(7, 4)),
            SurveyScore("s1", Aspect.QUALITY, 4, q3(7, 4)),
            SurveyScore("s1", Aspect.SPEED_OF_REPAIR, 2, q3(7, 4)),
            SurveyScore("s2", Aspect.OVERALL, 3, q3(8, 4)),
            SurveyScore("s2", Aspect.QUALITY, 5, q3(8, 4)),
            SurveyScore("s3", Aspect.OVERALL, 1, IN_Q4),
        )
    )
    found = satisfaction(facts, Q3)
    assert found.surveys == 2
    by_aspect = {a.aspect: a.satisfied for a in found.aspects}
    assert list(by_aspect) == list(Aspect)  # all eight, in the survey's order
    assert (by_aspect[Aspect.OVERALL].count, by_aspect[Aspect.OVERALL].out_of) == (1, 2)
    assert by_aspect[Aspect.OVERALL].percent == 50.0
    assert by_aspect[Aspect.QUALITY].percent == 100.0
    assert by_aspect[Aspect.SPEED_OF_REPAIR].percent == 0.0
    assert by_aspect[Aspect.REMINDERS].out_of == 0
    assert by_aspect[Aspect.REMINDERS].percent is None


# -- the whole report, and its table ----------------------------------------------------

EVERYTHING = Facts(
    cases=COMPLAINTS.cases + REPAIRS.cases,
    escalations=COMPLAINTS.escalations,
    repair_visits=REPAIRS.repair_visits,
    gas_checks=GAS.gas_checks,
    clocks=CLOCKS + REPAIR_CLOCKS,
)


def test_the_report_puts_every_figure_together():
    as_at = datetime(2026, 11, 30, 8, tzinfo=UTC)
    report = build_report(EVERYTHING, Q3, homes=1000, as_at=as_at)
    assert report.period.label == "2026Q3"
    assert report.period.starts_at == Q3.start
    assert report.as_at == as_at
    assert report.complete is True
    assert report.homes == 1000
    assert report.complaints.stage_1_received.per_1000_homes == 3.0
    assert report.anti_social_behaviour.count == 2
    assert report.repairs.completed == 4
    assert report.inspections.completed_jobs == 4
    assert report.inspections.target_met is False  # nothing inspected
    assert report.gas_safety.percent == 60.0
    assert report.rent_credits.count == 0
    assert report.satisfaction.surveys == 0


def test_a_report_for_a_running_period_says_so():
    report = build_report(Facts(), Q3, homes=0, as_at=datetime(2026, 8, 1, tzinfo=UTC))
    assert report.complete is False
    assert report.homes is None


def test_the_table_names_every_measure_code_and_shows_missing_figures_as_n_a():
    report = build_report(EVERYTHING, Q3, homes=0, as_at=datetime(2026, 11, 30, tzinfo=UTC))
    table = lines(report)
    assert {line.tsm for line in table if line.tsm} == set(Tsm)
    assert {line.section for line in table} >= {
        "Complaints", "Anti-social behaviour", "Repairs", "Gas safety", "Missed appointments",
        "Post-inspections", "Satisfaction", "Answered within the clock",
    }
    per_homes = [line for line in table if line.unit is Unit.PER_1000_HOMES]
    assert per_homes and all(shown(line) == "n/a" == raw(line) for line in per_homes)
    [gas] = [line for line in table if line.tsm is Tsm.BS01]
    assert (shown(gas), gas.count, gas.out_of) == ("60.0%", 3, 5)
    [days] = [line for line in table if line.unit is Unit.DAYS]
    assert shown(days) == "9.7 days"
    [money] = [line for line in table if line.unit is Unit.POUNDS]
    assert (shown(money), raw(money)) == ("£0.00", "0.00")
    clock_lines = [line for line in table if line.section == "Answered within the clock"]
    assert len(clock_lines) == len(report.clocks)
    assert any("(legal limit)" in line.measure and "2 breached and still open" in line.note for line in clock_lines)
