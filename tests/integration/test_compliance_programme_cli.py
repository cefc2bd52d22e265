"""`doorstep import certificates FILE` after `doorstep import properties FILE`, on a SQLite
file: good rows recorded with their events in the outbox, bad rows named by row number."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from shared.events import parse_event
from services.cli.main import main
from services.scheduler.adapters.tables import outbox


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "scheduler.db"
    monkeypatch.setenv("SCHEDULER_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    return path


def test_certificates_are_imported_after_the_homes(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    homes = tmp_path / "properties.csv"
    homes.write_text(
        "id,address,postcode,has_gas,year_built,block_id,block_name\n"
        "P1,1 Rye Lane,SE15 4ST,yes,1968,B1,Rye Court\n"
    )
    assert main(["import", "properties", str(homes)]) == 0
    certificates = tmp_path / "certificates.csv"
    certificates.write_text(
        "kind,property_id,block_id,checked_on,review_on,certificate\n"
        "gas_safety,P1,,2026-08-15,,GS-1\n"
        "fire_risk_assessment,,B1,2026-03-01,2027-03-01,\n"
        "gas_safety,P404,,2026-08-15,,\n"
    )
    assert main(["import", "certificates", str(certificates)]) == 1
    out = capsys.readouterr().out
    assert "certificates: 2 recorded, 0 already on record, 1 rejected" in out
    assert "row 4: property_id: no such property" in out
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        events = [parse_event(payload) for payload in connection.scalars(select(outbox.c.payload))]
    engine.dispose()
    assert sorted((e.event_type, e.property_id) for e in events) == [
        ("compliance.certificate_recorded", "B1"),
        ("compliance.certificate_recorded", "P1"),
    ]
    assert main(["import", "certificates", str(certificates)]) == 1
    assert "0 recorded, 2 already on record, 1 rejected" in capsys.readouterr().out


def test_a_file_without_its_columns_is_refused(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    bad = tmp_path / "certificates.csv"
    bad.write_text("kind,property_id\ngas_safety,P1\n")
    assert main(["import", "certificates", str(bad)]) == 2
    assert "the header lacks checked_on" in capsys.readouterr().err
