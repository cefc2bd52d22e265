"""`doorstep import`: rows validated one by one, rejected rows reported by row number and
reason without their values, valid rows upserted, on SQLite and PostgreSQL."""

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from shared.db import make_engine, migrate, session_factory
from services.scheduler.adapters.tables import blocks, contractors, properties, tenancies
from services.scheduler.bootstrap import MIGRATIONS
from services.scheduler.importing import import_rows, read_csv

PROPERTIES = """id,address,postcode,has_gas,year_built,block_id,block_name
p-1,1 Rye Lane,se15 4ab,yes,1965,b-1,Rye Court
p-2,2 Rye Lane,NOT A POSTCODE,maybe,1965,,
p-3,3 Rye Lane,SE15 4AD,no,,,
"""

TENANCIES = """id,property_id,tenant_name,mobile,email,preferred_channel
t-1,p-1,Ms Adebayo,07700 900123,,sms
t-2,p-9,Mr Smith,,smith@example.org,email
t-3,p-1,Mr Jones,0770090,,sms
t-4,p-3,Mrs Patel,,patel@example,email
t-5,p-3,Mr Lee,,,sms
"""

CONTRACTORS = """id,name,phone,trades,areas,working_days,capacity_per_slot,emergency_rota
c-1,Acme Plumbing,020 7946 0123,plumbing;heating,SE15;se22,Mon-Sat,2,yes
c-2,Bad Builders,020 7946 0124,,London,Funday,0,no
"""


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}"
    return request.getfixturevalue("fresh_postgres_database")


async def run_import(url: str, kind: str, text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    engine = make_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            return await import_rows(session, kind, read_csv(path))
    finally:
        await engine.dispose()


async def all_rows(url: str, table):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return {row.id: row for row in await connection.execute(select(table))}
    finally:
        await engine.dispose()


async def test_valid_rows_are_imported_and_the_rest_reported_by_row(database_url: str, tmp_path: Path):
    await migrate(MIGRATIONS, database_url)
    homes = await run_import(database_url, "properties", PROPERTIES, tmp_path)
    people = await run_import(database_url, "tenancies", TENANCIES, tmp_path)
    firms = await run_import(database_url, "contractors", CONTRACTORS, tmp_path)

    assert homes.lines() == [
        "properties: 2 imported, 1 rejected",
        "  row 3: postcode: not a UK postcode; has_gas: must be yes or no",
    ]
    assert people.accepted == 1
    assert [(r.row, r.reason) for r in people.rejected] == [
        (3, "property_id: no such property (import properties first)"),
        (4, "mobile: not a valid phone number"),
        (5, "email: not an email address"),
        (6, "row: needs a mobile or an email address"),
    ]
    assert firms.accepted == 1
    [bad] = firms.rejected
    assert bad.row == 3
    for named in ("trades", "areas", "working_days", "capacity_per_slot"):
        assert named in bad.reason

    saved = await all_rows(database_url, properties)
    assert saved["p-1"].postcode == "SE15 4AB" and saved["p-1"].has_gas and saved["p-1"].block_id == "b-1"
    assert saved["p-3"].year_built is None and not saved["p-3"].has_gas
    assert (await all_rows(database_url, blocks))["b-1"].name == "Rye Court"
    assert (await all_rows(database_url, tenancies))["t-1"].mobile == "+447700900123"
    acme = (await all_rows(database_url, contractors))["c-1"]
    assert (acme.trades, acme.areas, acme.working_days) == (
        ["plumbing", "heating"],
        ["SE15", "SE22"],
        [1, 2, 3, 4, 5, 6],
    )
    assert acme.emergency_rota and acme.capacity_per_slot == 2


async def test_a_second_import_updates_rows_in_place(database_url: str, tmp_path: Path):
    await migrate(MIGRATIONS, database_url)
    await run_import(database_url, "properties", PROPERTIES, tmp_path)
    again = await run_import(
        database_url, "properties", "id,address,postcode,has_gas\np-1,1a Rye Lane,SE15 4AB,no\n", tmp_path
    )
    assert again.accepted == 1
    saved = await all_rows(database_url, properties)
    assert len(saved) == 2 and saved["p-1"].address == "1a Rye Lane" and not saved["p-1"].has_gas


async def test_an_unknown_column_or_a_ragged_row_is_rejected(database_url: str, tmp_path: Path):
    await migrate(MIGRATIONS, database_url)
    report = await run_import(
        database_url,
        "properties",
        "id,address,postcode,has_gas,colour\np-7,7 Rye Lane,SE15 4AB,yes,red\np-8,8 Rye Lane,SE15 4AB,yes,,extra\n",
        tmp_path,
    )
    assert report.accepted == 0
    assert [r.row for r in report.rejected] == [2, 3]
    assert all("unknown column" in r.reason for r in report.rejected)


def test_the_command_prints_the_report_without_personal_data(tmp_path: Path):
    env = {**os.environ, "SCHEDULER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    files = {"properties": PROPERTIES, "tenancies": TENANCIES}
    outputs = {}
    for kind, text in files.items():
        (tmp_path / f"{kind}.csv").write_text(text)
        outputs[kind] = subprocess.run(
            [sys.executable, "-m", "services.cli.main", "import", kind, str(tmp_path / f"{kind}.csv")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert outputs["properties"].returncode == 1  # some rows rejected
    assert "properties: 2 imported, 1 rejected" in outputs["properties"].stdout
    tenancies_out = outputs["tenancies"].stdout + outputs["tenancies"].stderr
    assert "row 4: mobile: not a valid phone number" in tenancies_out
    for personal in ("0770090", "patel@example", "Mr Jones", "Mrs Patel", "NOT A POSTCODE"):
        assert personal not in tenancies_out + outputs["properties"].stdout

    unknown = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "import", "pets", str(tmp_path / "x.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2 and "unknown kind 'pets'" in unknown.stderr


def test_a_contractor_token_is_issued_once_and_only_its_hash_kept(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'tokens.db'}"
    env = {**os.environ, "SCHEDULER_DATABASE_URL": url}
    (tmp_path / "contractors.csv").write_text(CONTRACTORS)
    doorstep = [sys.executable, "-m", "services.cli.main"]
    subprocess.run([*doorstep, "import", "contractors", str(tmp_path / "contractors.csv")], env=env, timeout=60)

    issued = subprocess.run([*doorstep, "contractor-token", "c-1"], env=env, capture_output=True, text=True, timeout=60)
    token = issued.stdout.strip()
    assert issued.returncode == 0 and len(token) >= 40
    stored = asyncio.run(all_rows(url, contractors))["c-1"].token_sha256
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored

    unknown = subprocess.run([*doorstep, "contractor-token", "c-9"], env=env, capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "no contractor 'c-9'" in unknown.stderr
