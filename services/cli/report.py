"""`doorstep report --quarter 2026Q3` (or `--year 2026`, `--year 2026-27`): the
Performance Review Group's figures from the SLA monitor's database, printed as a table
and written as CSV and JSON to `--out` (default var/reports)."""

import asyncio
import csv
import sys
from itertools import groupby
from pathlib import Path

from shared.db import make_engine, migrate, session_factory
from services.sla_monitor.bootstrap import MIGRATIONS
from services.sla_monitor.reporting.periods import Period, PeriodError, PeriodKind, parse_period
from services.sla_monitor.reporting.queries import report_for
from services.sla_monitor.reporting.report import Report
from services.sla_monitor.reporting.table import Line, lines, raw, shown
from services.sla_monitor.settings import SlaMonitorSettings

CSV_COLUMNS = ("period", "section", "measure", "value", "unit", "count", "out_of", "tsm", "note")


def main(quarter: str | None, year: str | None, out: Path) -> int:
    try:
        period = _period(quarter, year)
    except PeriodError as error:
        print(f"doorstep report: {error}", file=sys.stderr)
        return 2
    settings = SlaMonitorSettings()
    report = asyncio.run(_compile(settings.database(), period, settings.homes))
    print(render(report))
    for path in write(report, out):
        print(f"wrote {path}")
    return 0


def _period(quarter: str | None, year: str | None) -> Period:
    if quarter is not None:
        period = parse_period(quarter)
        if period.kind is not PeriodKind.QUARTER:
            raise PeriodError(f"--quarter wants a quarter such as 2026Q3, not {period.label}")
        return period
    period = parse_period(year or "")
    if period.kind is PeriodKind.QUARTER:
        raise PeriodError(f"--year wants a year such as 2026 or 2026-27, not {period.label}; use --quarter")
    return period


async def _compile(database_url: str, period: Period, homes: int) -> Report:
    await migrate(MIGRATIONS, database_url)
    engine = make_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return await report_for(session, period, homes)
    finally:
        await engine.dispose()


# -- the printed table ------------------------------------------------------------------


def render(report: Report) -> str:
    found = lines(report)
    width = max(len(line.measure) for line in found)
    columns = f"  {'Measure':<{width}}  {'Value':>10}  {'Count':<18}  TSM"
    return "\n".join([*_heading(report), "", columns, "", *_sections(found, width)])


def _heading(report: Report) -> list[str]:
    period = report.period
    state = "complete" if report.complete else "still running"
    homes = f"{report.homes:,}" if report.homes else "not configured (per 1,000 homes: n/a)"
    return [
        f"Performance report {period.label}: {period.first_day:%d %b %Y} to {period.last_day:%d %b %Y} "
        f"(London time), {state}",
        f"Figures as at {report.as_at:%Y-%m-%d %H:%M} UTC. Homes: {homes}.",
        "TSM: the regulator's Tenant Satisfaction Measure the figure matches.",
    ]


def _sections(found: list[Line], width: int) -> list[str]:
    rendered: list[str] = []
    for section, group in groupby(found, key=lambda line: line.section):
        rendered += ["", section] if rendered else [section]
        rendered += [_row(line, width) for line in group]
    return rendered


def _row(line: Line, width: int) -> str:
    cells = [
        f"  {line.measure:<{width}}", f"{shown(line):>10}", f"{_counted(line):<18}", f"{line.tsm or '':<7}", line.note
    ]
    return "  ".join(cells).rstrip()


def _counted(line: Line) -> str:
    if line.count is None:
        return ""
    if line.out_of is None:
        return f"{line.count:,} measured"
    return f"{line.count:,} of {line.out_of:,}"


# -- the files --------------------------------------------------------------------------


def write(report: Report, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"report-{report.period.label}"
    csv_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".json")
    with csv_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_csv_row(report.period.label, line) for line in lines(report))
    json_path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return [csv_path, json_path]


def _csv_row(label: str, line: Line) -> list[str]:
    def number(value: int | None) -> str:
        return "" if value is None else str(value)

    return [
        label, line.section, line.measure, raw(line), str(line.unit),
        number(line.count), number(line.out_of), line.tsm or "", line.note,
    ]
