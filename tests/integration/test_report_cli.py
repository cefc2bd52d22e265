"""`doorstep report` as a separate process over a SQLite database: the printed table,
the CSV and the JSON files, and clear refusals of a bad period."""

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.db import make_engine, migrate, session_factory
from shared.events import Event
from shared.events.appointments import AppointmentCompleted, AppointmentKind
from shared.events.cases import CaseKind, CaseOpened, Channel, ComplaintEscalated, Priority
from shared.events.feedback import Aspect, SurveyAnswered
from shared.events.finance import CreditReason, RentCreditDue
from services.sla_monitor.adapters.tables import clocks
from services.sla_monitor.bootstrap import MIGRATIONS
from services.sla_monitor.reporting.facts import record

REPO = Path(__file__).resolve().parents[2]


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def case(case_id: str) -> dict[str, str]:
    return {"correlation_id": case_id, "case_id": case_id, "reference": f"HX-{case_id.upper():0>8}"}


EVENTS: list[Event] = [
    CaseOpened(channel=Channel.EMAIL, kind=CaseKind.COMPLAINT, received_at=at(7, 2), **case("c1")),
    CaseOpened(channel=Channel.EMAIL, kind=CaseKind.COMPLAINT, received_at=at(8, 2), **case("c2")),
    ComplaintEscalated(escalated_at=at(8, 20), **case("c1")),
    CaseOpened(
        channel=Channel.PHONE, kind=CaseKind.REPAIR_REQUEST, priority=Priority.URGENT, received_at=at(7, 6), **case("r1")
    ),
    AppointmentCompleted(
        appointment_id="ap1", kind=AppointmentKind.REPAIR, completed_at=at(7, 9, 21), **case("r1")
    ),  # 3.5 days
    RentCreditDue(
        appointment_id="ap0", amount_pence=1000, reason=CreditReason.MISSED_APPOINTMENT, due_at=at(7, 8), **case("r1")
    ),
    SurveyAnswered(answered_at=at(7, 10), scores={Aspect.OVERALL: 4}, **case("r1")),
]

CLOCK = {
    "id": "statutory-england:complaint_stage1_response:c1",
    "definition": "complaint_stage1_response",
    "standard": "statutory-england@2024-04-01",
    "obligation": "statutory",
    "name": "Respond to a Stage 1 complaint",
    "source": "Complaint Handling Code",
    "subject_type": "case",
    "subject_id": "c1",
    "reference": "HX-000000C1",
    "started_at": at(7, 2),
    "deadline": at(7, 16, 16),
    "state": "met",
    "stopped_at": at(7, 20),
    "breached_at": at(7, 16, 16),
}


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file, or a brand-new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sla_monitor.db'}"
    return request.getfixturevalue("fresh_postgres_database")


@pytest.fixture
async def any_database(empty_database: str) -> str:
    return await recorded(empty_database)


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    return await recorded(f"sqlite+aiosqlite:///{tmp_path / 'sla_monitor.db'}")


async def recorded(url: str) -> str:
    await migrate(MIGRATIONS, url)
    engine = make_engine(url)
    async with session_factory(engine).begin() as session:
        for event in EVENTS + EVENTS:  # each delivered twice: recorded once
            await record(session, event)
        await session.execute(clocks.insert().values(**CLOCK))
    await engine.dispose()
    return url


def doorstep_report(database_url: str, *args: str, homes: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLA_MONITOR_DATABASE_URL": database_url}
    env.pop("SLA_MONITOR_HOMES", None)
    if homes is not None:
        env["SLA_MONITOR_HOMES"] = str(homes)
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", "report", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def table_row(stdout: str, measure: str) -> list[str]:
    [line] = [line for line in stdout.splitlines() if line.strip().startswith(measure)]
    return [cell for cell in line[len("  " + measure):].split("  ") if cell.strip()]


async def test_a_quarter_is_printed_and_written_as_csv_and_json(any_database: str, tmp_path: Path):
    out = tmp_path / "reports"
    done = doorstep_report(any_database, "--quarter", "2026Q3", "--out", str(out), homes=250)

    assert done.returncode == 0, done.stderr
    printed = done.stdout
    assert printed.startswith("Performance report 2026Q3: 01 Jul 2026 to 30 Sep 2026 (London time), complete")
    assert "Homes: 250." in printed
    assert [s.strip() for s in table_row(printed, "Stage 1 complaints per 1,000 homes")] == ["8.00", "CH01(1)"]
    assert [s.strip() for s in table_row(printed, "Stage 2 complaints received")] == ["1"]
    assert [s.strip() for s in table_row(printed, "Stage 1 responses within the Code's timescale")] == [
        "0.0%", "0 of 1", "CH02(1)"
    ]
    assert [s.strip() for s in table_row(printed, "Average end-to-end repair time")] == ["3.5 days", "1 measured"]
    assert [s.strip() for s in table_row(printed, "Total credited")] == ["£10.00"]
    assert [s.strip() for s in table_row(printed, "Satisfied (4 or 5): overall")] == ["100.0%", "1 of 1"]
    assert [s.strip() for s in table_row(printed, "Respond to a Stage 1 complaint (legal limit)")] == [
        "0.0%", "0 of 1", "0 in time, 1 late, 0 breached and still open"
    ]
    csv_path, json_path = out / "report-2026Q3.csv", out / "report-2026Q3.json"
    assert f"wrote {csv_path}" in printed
    assert f"wrote {json_path}" in printed

    with csv_path.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["period", "section", "measure", "value", "unit", "count", "out_of", "tsm", "note"]
    by_measure = {row["measure"]: row for row in rows}
    assert by_measure["Stage 1 complaints received"]["value"] == "2"
    per_homes = by_measure["Stage 1 complaints per 1,000 homes"]
    assert (per_homes["value"], per_homes["unit"], per_homes["tsm"]) == ("8.0", "per_1000_homes", "CH01(1)")
    assert by_measure["Total credited"]["value"] == "10.00"
    assert by_measure["Homes with an in-date gas safety certificate"]["value"] == "n/a"
    assert {row["period"] for row in rows} == {"2026Q3"}
    assert {row["tsm"] for row in rows} >= {"RP02(1)", "RP02(2)", "BS01", "CH01(1)", "CH01(2)", "CH02(1)", "CH02(2)", "NM01(1)"}

    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["period"]["label"] == "2026Q3"
    assert report["homes"] == 250
    assert report["complaints"]["stage_1_received"] == {"count": 2, "per_1000_homes": 8.0, "tsm": "CH01(1)"}
    assert report["repairs"]["completed"] == 1
    assert report["repairs"]["average_end_to_end_days"] == 3.5
    assert report["rent_credits"] == {"count": 1, "total_pence": 1000}


async def test_without_the_number_of_homes_rates_are_n_a(database_url: str, tmp_path: Path):
    done = doorstep_report(database_url, "--year", "2026", "--out", str(tmp_path))

    assert done.returncode == 0, done.stderr
    assert "Homes: not configured" in done.stdout
    assert [s.strip() for s in table_row(done.stdout, "Stage 1 complaints per 1,000 homes")] == ["n/a", "CH01(1)"]
    assert (tmp_path / "report-2026.csv").exists()
    assert json.loads((tmp_path / "report-2026.json").read_text())["homes"] is None


@pytest.mark.parametrize(
    "args, says",
    [
        (["--quarter", "2026Q5"], "quarters 1 to 4"),
        (["--quarter", "2026"], "--quarter wants a quarter"),
        (["--year", "2026Q3"], "use --quarter"),
        (["--year", "twenty26"], "not a reporting period"),
    ],
)
async def test_a_bad_period_is_refused_and_nothing_is_written(
    database_url: str, tmp_path: Path, args: list[str], says: str
):
    out = tmp_path / "reports"
    done = doorstep_report(database_url, *args, "--out", str(out))
    assert done.returncode == 2
    assert says in done.stderr
    assert not out.exists()


def test_a_period_must_be_given():
    done = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "report"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "--quarter" in done.stderr and "--year" in done.stderr


