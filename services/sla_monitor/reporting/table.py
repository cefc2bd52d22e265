"""A report as flat lines, for the printed table and the CSV file (pure)."""

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from shared.events.sla import Obligation
from services.sla_monitor.reporting.report import ClockFigure, Count, Report, Share, Tsm

NOT_AVAILABLE = "n/a"


class Unit(StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    PER_1000_HOMES = "per_1000_homes"
    DAYS = "days"
    POUNDS = "pounds"
    YES_NO = "yes_no"


@dataclass(frozen=True)
class Line:
    section: str
    measure: str
    value: int | float | bool | None
    unit: Unit
    count: int | None = None
    out_of: int | None = None
    tsm: Tsm | None = None
    note: str = ""


def lines(report: Report) -> list[Line]:
    return [
        *_complaints(report),
        *_anti_social_behaviour(report),
        *_repairs(report),
        *_gas_safety(report),
        *_rent_credits(report),
        *_inspections(report),
        *_satisfaction(report),
        *_clocks(report),
    ]


def shown(line: Line) -> str:
    """The value as a reader expects it: 75.0%, 4.3 days, £30.00, n/a."""
    if line.value is None:
        return NOT_AVAILABLE
    match line.unit:
        case Unit.PERCENT:
            return f"{line.value:.1f}%"
        case Unit.PER_1000_HOMES:
            return f"{line.value:.2f}"
        case Unit.DAYS:
            return f"{line.value:.1f} days"
        case Unit.POUNDS:
            return f"£{line.value:,.2f}"
        case Unit.YES_NO:
            return "yes" if line.value else "no"
    return f"{line.value:,}"


def raw(line: Line) -> str:
    """The value for a spreadsheet: a plain number, yes/no, or n/a."""
    if line.value is None:
        return NOT_AVAILABLE
    if line.unit is Unit.YES_NO:
        return "yes" if line.value else "no"
    if line.unit is Unit.POUNDS:
        return f"{line.value:.2f}"
    return str(line.value)


def _share(section: str, measure: str, figure: Share, note: str = "") -> Line:
    return Line(section, measure, figure.percent, Unit.PERCENT, figure.count, figure.out_of, figure.tsm, note)


def _counted(section: str, what: str, figure: Count) -> Iterator[Line]:
    yield Line(section, f"{what} received", figure.count, Unit.COUNT)
    yield Line(section, f"{what} per 1,000 homes", figure.per_1000_homes, Unit.PER_1000_HOMES, tsm=figure.tsm)


def _complaints(report: Report) -> Iterator[Line]:
    section, found = "Complaints", report.complaints
    yield from _counted(section, "Stage 1 complaints", found.stage_1_received)
    yield from _counted(section, "Stage 2 complaints", found.stage_2_received)
    yield _share(section, "Stage 1 responses within the Code's timescale", found.stage_1_responded_in_time)
    yield _share(section, "Stage 2 responses within the Code's timescale", found.stage_2_responded_in_time)


def _anti_social_behaviour(report: Report) -> Iterator[Line]:
    yield from _counted("Anti-social behaviour", "Cases", report.anti_social_behaviour)


def _repairs(report: Report) -> Iterator[Line]:
    section, found = "Repairs", report.repairs
    yield Line(section, "Repairs completed", found.completed, Unit.COUNT)
    yield _share(section, "Emergency repairs completed within target", found.emergency_within_target)
    yield _share(section, "Non-emergency repairs completed within target", found.non_emergency_within_target)
    yield _share(section, "Repairs fixed at the first visit", found.fixed_first_visit)
    yield Line(
        section, "Average end-to-end repair time", found.average_end_to_end_days, Unit.DAYS,
        count=found.end_to_end_measured,
    )


def _gas_safety(report: Report) -> Iterator[Line]:
    yield _share("Gas safety", "Homes with an in-date gas safety certificate", report.gas_safety)


def _rent_credits(report: Report) -> Iterator[Line]:
    section, found = "Missed appointments", report.rent_credits
    yield Line(section, "Rent credits for missed appointments", found.count, Unit.COUNT)
    yield Line(section, "Total credited", found.total_pence / 100, Unit.POUNDS)


def _inspections(report: Report) -> Iterator[Line]:
    section, found = "Post-inspections", report.inspections
    target = f"target {found.target_percent:g}%"
    yield _share(section, f"Completed jobs inspected ({target})", found.sample)
    yield Line(section, "Sampling target met", found.target_met, Unit.YES_NO)
    high_value = found.high_value_or_complex_inspected
    yield Line(section, "High-value or complex jobs inspected", high_value, Unit.COUNT)
    yield _share(section, "Inspections passed", found.passed)


def _satisfaction(report: Report) -> Iterator[Line]:
    section, found = "Satisfaction", report.satisfaction
    yield Line(section, "Surveys answered", found.surveys, Unit.COUNT)
    for aspect in found.aspects:
        words = aspect.aspect.replace("_", " ")
        yield _share(section, f"Satisfied (4 or 5): {words}", aspect.satisfied)


def _clocks(report: Report) -> Iterator[Line]:
    for clock in report.clocks:
        measure, note = _clock_measure(clock), _clock_note(clock)
        yield _share("Answered within the clock", measure, clock.share_in_time, note)


def _clock_measure(clock: ClockFigure) -> str:
    kind = "legal limit" if clock.obligation == Obligation.STATUTORY else "internal target"
    return f"{clock.name} ({kind})"


def _clock_note(clock: ClockFigure) -> str:
    return f"{clock.in_time} in time, {clock.late} late, {clock.breached_open} breached and still open"
