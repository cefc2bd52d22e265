"""Electrical inspections (every home) and fire risk assessments (every block) raised as
staff tasks; certificates imported from CSV."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from faststream.specification import AsyncAPI

from shared.events.compliance import CertificateKind
from shared.service import Runtime
from services.scheduler.app import create_app
from services.scheduler.bootstrap import bootstrap
from services.scheduler.compliance.importing import import_certificates
from services.scheduler.compliance.notice_sweep import sweep_notices
from services.scheduler.compliance.programme import check_case_id
from services.scheduler.compliance.recording import Certificate, record_certificate
from services.scheduler.settings import SchedulerSettings
from tests.component.timed_support import add_homes, outbox_events, scheduler_runtime, sqlite_url

ELECTRICAL = CertificateKind.ELECTRICAL_INSTALLATION
FIRE = CertificateKind.FIRE_RISK_ASSESSMENT
TODAY = date(2026, 12, 1)


@pytest.fixture
async def runtime(tmp_path: Path) -> Runtime:
    runtime = await scheduler_runtime(sqlite_url(tmp_path))
    yield runtime
    await runtime.engine.dispose()


async def test_every_home_needs_an_electrical_check_every_five_years_gas_or_not(runtime: Runtime):
    recent, coming, unknown = await add_homes(runtime, 3, gas=False)
    await record_certificate(runtime, Certificate(ELECTRICAL, recent, date(2024, 5, 1)))
    await record_certificate(runtime, Certificate(ELECTRICAL, coming, date(2022, 1, 20)))  # due 2027-01-20
    counts = await sweep_notices(runtime, ELECTRICAL, 3, TODAY)
    assert (counts["due"], counts["overdue"]) == (2, 0)
    tasks = await outbox_events(runtime, "compliance.safety_check_due")
    assert {(t.property_id, t.due_on) for t in tasks} == {(coming, date(2027, 1, 20)), (unknown, TODAY)}
    assert (await sweep_notices(runtime, ELECTRICAL, 3, TODAY)) == {"looked_at": 2, "due": 0, "overdue": 0}
    late = await sweep_notices(runtime, ELECTRICAL, 3, TODAY + timedelta(days=1))
    assert (late["due"], late["overdue"]) == (0, 1)
    [overdue] = await outbox_events(runtime, "compliance.safety_check_overdue")
    assert (overdue.property_id, overdue.case_id) == (unknown, check_case_id(ELECTRICAL, unknown, TODAY))
    assert (await sweep_notices(runtime, ELECTRICAL, 3, TODAY + timedelta(days=2)))["overdue"] == 0


async def test_a_block_is_assessed_by_its_review_date(runtime: Runtime):
    await add_homes(runtime, 2, block="B1")
    await record_certificate(runtime, Certificate(FIRE, "B1", date(2026, 6, 1), review_on=date(2026, 12, 20)))
    counts = await sweep_notices(runtime, FIRE, 1, TODAY)
    assert counts["due"] == 1
    [task] = await outbox_events(runtime, "compliance.safety_check_due")
    assert (task.property_id, task.kind, task.due_on) == ("B1", FIRE, date(2026, 12, 20))


async def test_a_csv_import_records_good_rows_and_reports_the_bad_by_row(runtime: Runtime, tmp_path: Path):
    [home] = await add_homes(runtime, 1, block="B1")
    csv = tmp_path / "certificates.csv"
    csv.write_text(
        "kind,property_id,block_id,checked_on,review_on,certificate\n"
        f"gas_safety,{home},,2026-08-15,,GS-1\n"
        "gas_safety,NOPE,,2026-08-15,,\n"
        "fire_risk_assessment,,B1,2026-03-01,2027-03-01,\n"
        f"gas_safety,{home},,next tuesday,,\n"
        f"gas_safety,{home},,2026-08-15,,GS-1\n"
    )
    report = await import_certificates(runtime, csv, TODAY)
    assert (report.recorded, report.already_known) == (2, 1)
    assert [str(r) for r in report.rejected] == [
        "row 3: property_id: no such property",
        "row 5: checked_on: not a date (YYYY-MM-DD)",
    ]
    recorded = await outbox_events(runtime, "compliance.certificate_recorded")
    assert {(r.property_id, r.kind) for r in recorded} == {(home, CertificateKind.GAS_SAFETY), ("B1", FIRE)}
    again = await import_certificates(runtime, csv, TODAY)
    assert (again.recorded, again.already_known) == (0, 3)


def test_the_asyncapi_document_names_the_programme_events(tmp_path: Path):
    runtime = bootstrap(SchedulerSettings(database_url=sqlite_url(tmp_path), timed_jobs=False))
    create_app(runtime)
    document = AsyncAPI(runtime.broker, title="scheduler").to_specification().to_json()
    assert "doorstep.compliance:publish" in document
    for event in (
        "CertificateRecorded",
        "GasCheckOffered",
        "GasCheckEscalated",
        "SafetyCheckDue",
        "SafetyCheckOverdue",
    ):
        assert event in document, event
