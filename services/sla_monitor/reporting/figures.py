"""The figures of one period, from facts and clocks (pure: rows in, a Report out).

Counting rules, each where the figure is made:
- a case counts in the period it was received, an escalation in the period it was made;
- a clock counts in the period it stopped (met: in time when stopped by its deadline,
  late otherwise), or, still open, in the period it breached;
- a repair job is complete at its last completed repair visit, and counts in that period;
- a home's gas certificate is judged on the period's last day, from every check up to it.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from statistics import fmean

from shared.compliance import next_due
from shared.events.cases import CaseKind
from shared.events.compliance import CertificateKind
from shared.events.feedback import Aspect
from shared.events.sla import Obligation
from services.sla_monitor.reporting.periods import Period
from services.sla_monitor.reporting.report import (
    AspectFigure,
    ClockFigure,
    Complaints,
    Count,
    Inspections,
    Repairs,
    RentCredits,
    Report,
    ReportPeriod,
    Satisfaction,
    Share,
    Tsm,
)
from services.sla_monitor.reporting.rows import CANCELLED, MET, ClockRow, Facts, RepairVisit

EMERGENCY_REPAIR_CLOCKS = frozenset({"repair_completion_emergency"})
NON_EMERGENCY_REPAIR_CLOCKS = frozenset({"repair_completion_urgent", "repair_completion_routine"})
STAGE_1_RESPONSE_CLOCK = "complaint_stage1_response"
STAGE_2_RESPONSE_CLOCK = "complaint_stage2_response"
GAS_CHECK_MONTHS = 12
INSPECTION_TARGET_PERCENT = 5.0
SATISFIED_FROM = 4  # 4 or 5 on the 1-5 scale

# What a clock did in a period.
IN_TIME, LATE, BREACHED_OPEN = "in_time", "late", "breached_open"


def build_report(facts: Facts, period: Period, homes: int, as_at: datetime) -> Report:
    jobs = completed_jobs(facts.repair_visits, period)
    return Report(
        period=_period(period),
        as_at=as_at,
        complete=as_at >= period.end,
        homes=homes or None,
        complaints=complaints(facts, period, homes),
        anti_social_behaviour=anti_social_behaviour(facts, period, homes),
        clocks=clock_figures(facts.clocks, period),
        repairs=repairs(facts, period, jobs),
        gas_safety=gas_safety(facts, period),
        rent_credits=rent_credits(facts, period),
        inspections=inspections(facts, period, len(jobs)),
        satisfaction=satisfaction(facts, period),
    )


# -- counting helpers -------------------------------------------------------------------


def share(count: int, out_of: int, tsm: Tsm | None = None) -> Share:
    percent = round(100 * count / out_of, 1) if out_of else None
    return Share(count=count, out_of=out_of, percent=percent, tsm=tsm)


def per_1000_homes(count: int, homes: int, tsm: Tsm | None = None) -> Count:
    rate = round(1000 * count / homes, 2) if homes else None
    return Count(count=count, per_1000_homes=rate, tsm=tsm)


# -- complaints and anti-social behaviour -----------------------------------------------


def _cases_received(facts: Facts, period: Period, kind: CaseKind) -> int:
    return len({c.case_id for c in facts.cases if c.kind == kind and period.contains(c.received_at)})


def complaints(facts: Facts, period: Period, homes: int) -> Complaints:
    escalated = {e.case_id for e in facts.escalations if period.contains(e.escalated_at)}
    return Complaints(
        stage_1_received=per_1000_homes(
            _cases_received(facts, period, CaseKind.COMPLAINT), homes, Tsm.CH01_STAGE_1
        ),
        stage_2_received=per_1000_homes(len(escalated), homes, Tsm.CH01_STAGE_2),
        stage_1_responded_in_time=_responded_in_time(
            facts.clocks, period, STAGE_1_RESPONSE_CLOCK, Tsm.CH02_STAGE_1
        ),
        stage_2_responded_in_time=_responded_in_time(
            facts.clocks, period, STAGE_2_RESPONSE_CLOCK, Tsm.CH02_STAGE_2
        ),
    )


def _responded_in_time(clocks: Iterable[ClockRow], period: Period, definition: str, tsm: Tsm) -> Share:
    """The statutory response clocks stopped in the period: in time out of all responses."""
    outcomes = [
        _outcome(c, period)
        for c in clocks
        if c.definition == definition and c.obligation == Obligation.STATUTORY
    ]
    return share(outcomes.count(IN_TIME), outcomes.count(IN_TIME) + outcomes.count(LATE), tsm)


def anti_social_behaviour(facts: Facts, period: Period, homes: int) -> Count:
    return per_1000_homes(
        _cases_received(facts, period, CaseKind.ANTI_SOCIAL_BEHAVIOUR), homes, Tsm.NM01
    )


# -- clocks -----------------------------------------------------------------------------


def _outcome(clock: ClockRow, period: Period) -> str | None:
    """What the clock did in the period, if anything."""
    if clock.state == MET and clock.stopped_at is not None and period.contains(clock.stopped_at):
        return IN_TIME if clock.stopped_at <= clock.deadline else LATE
    still_open = clock.state not in (MET, CANCELLED)
    if still_open and clock.breached_at is not None and period.contains(clock.breached_at):
        return BREACHED_OPEN
    return None


def clock_figures(clocks: Iterable[ClockRow], period: Period) -> list[ClockFigure]:
    """One row per clock definition and obligation with anything in the period."""
    outcomes: dict[tuple[Obligation, str], list[str]] = defaultdict(list)
    names: dict[tuple[Obligation, str], str] = {}
    for clock in clocks:
        outcome = _outcome(clock, period)
        if outcome is not None:
            key = (clock.obligation, clock.definition)
            outcomes[key].append(outcome)
            names.setdefault(key, clock.name)
    return [_clock_figure(key, names[key], found) for key, found in sorted(outcomes.items())]


def _clock_figure(key: tuple[Obligation, str], name: str, outcomes: list[str]) -> ClockFigure:
    obligation, definition = key
    in_time = outcomes.count(IN_TIME)
    return ClockFigure(
        definition=definition,
        name=name,
        obligation=obligation,
        in_time=in_time,
        late=outcomes.count(LATE),
        breached_open=outcomes.count(BREACHED_OPEN),
        share_in_time=share(in_time, len(outcomes)),
    )


# -- repairs ----------------------------------------------------------------------------


def completed_jobs(visits: Iterable[RepairVisit], period: Period) -> dict[str, list[RepairVisit]]:
    """Each repair job (case) whose last completed visit fell in the period, with its visits."""
    by_case: dict[str, list[RepairVisit]] = defaultdict(list)
    for visit in visits:
        by_case[visit.case_id].append(visit)
    return {
        case_id: found
        for case_id, found in by_case.items()
        if period.contains(max(v.completed_at for v in found))
    }


def _fixed_first_visit(visits: list[RepairVisit]) -> bool:
    """One completed visit, and the operative said it fixed the fault."""
    appointments = {v.appointment_id for v in visits}
    return len(appointments) == 1 and all(v.fixed_first_time for v in visits)


def _within_target(
    clocks: Iterable[ClockRow], period: Period, definitions: frozenset[str], tsm: Tsm
) -> Share:
    outcomes = [_outcome(c, period) for c in clocks if c.definition in definitions]
    stopped = outcomes.count(IN_TIME) + outcomes.count(LATE)
    return share(outcomes.count(IN_TIME), stopped, tsm)


def repairs(facts: Facts, period: Period, jobs: dict[str, list[RepairVisit]]) -> Repairs:
    received = {c.case_id: c.received_at for c in facts.cases}
    durations = [
        max(v.completed_at for v in visits) - received[case_id]
        for case_id, visits in jobs.items()
        if case_id in received
    ]
    return Repairs(
        completed=len(jobs),
        emergency_within_target=_within_target(
            facts.clocks, period, EMERGENCY_REPAIR_CLOCKS, Tsm.RP02_EMERGENCY
        ),
        non_emergency_within_target=_within_target(
            facts.clocks, period, NON_EMERGENCY_REPAIR_CLOCKS, Tsm.RP02_NON_EMERGENCY
        ),
        fixed_first_visit=share(sum(_fixed_first_visit(v) for v in jobs.values()), len(jobs)),
        average_end_to_end_days=_days(fmean(d / timedelta(days=1) for d in durations)) if durations else None,
        end_to_end_measured=len(durations),
    )


def _days(value: float) -> float:
    return round(value, 1)


# -- gas safety -------------------------------------------------------------------------


def gas_due_date(checked: Iterable[date]) -> date | None:
    """The date the next check is due by, after these checks (in any order)."""
    due: date | None = None
    for day in sorted(checked):
        due = next_due(CertificateKind.GAS_SAFETY, day, GAS_CHECK_MONTHS, due)
    return due


def gas_safety(facts: Facts, period: Period) -> Share:
    """Homes whose certificate is in date on the period's last day, out of every home
    with a gas check recorded up to then (BS01)."""
    checks: dict[str, list[date]] = defaultdict(list)
    for check in facts.gas_checks:
        if check.checked_on <= period.last_day:
            checks[check.property_id].append(check.checked_on)
    due_dates = [gas_due_date(days) for days in checks.values()]
    in_date = sum(1 for due in due_dates if due is not None and due >= period.last_day)
    return share(in_date, len(due_dates), Tsm.BS01)


# -- money, inspections, satisfaction ---------------------------------------------------


def rent_credits(facts: Facts, period: Period) -> RentCredits:
    due = [c for c in facts.rent_credits if period.contains(c.due_at)]
    return RentCredits(count=len(due), total_pence=sum(c.amount_pence for c in due))


def inspections(facts: Facts, period: Period, completed: int) -> Inspections:
    done = [i for i in facts.inspections if period.contains(i.inspected_at)]
    sample = share(len({i.case_id for i in done}), completed)
    return Inspections(
        completed_jobs=completed,
        sample=sample,
        target_percent=INSPECTION_TARGET_PERCENT,
        target_met=None if not completed else 100 * sample.count >= INSPECTION_TARGET_PERCENT * completed,
        high_value_or_complex_inspected=len({i.case_id for i in done if i.high_value_or_complex}),
        passed=share(sum(i.passed for i in done), len(done)),
    )


def satisfaction(facts: Facts, period: Period) -> Satisfaction:
    scores = [s for s in facts.survey_scores if period.contains(s.answered_at)]
    by_aspect: dict[Aspect, list[int]] = defaultdict(list)
    for score in scores:
        by_aspect[score.aspect].append(score.score)
    return Satisfaction(
        surveys=len({s.survey_id for s in scores}),
        aspects=[
            AspectFigure(
                aspect=aspect,
                satisfied=share(sum(s >= SATISFIED_FROM for s in by_aspect[aspect]), len(by_aspect[aspect])),
            )
            for aspect in Aspect
        ],
    )


def _period(period: Period) -> ReportPeriod:
    return ReportPeriod(
        label=period.label,
        kind=period.kind,
        first_day=period.first_day,
        last_day=period.last_day,
        starts_at=period.start,
        ends_at=period.end,
    )
