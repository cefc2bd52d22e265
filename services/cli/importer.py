"""`doorstep import KIND file.csv`: load homes, tenancies, contractors or safety certificates into the
scheduler's database (SCHEDULER_DATABASE_URL), reporting rejected rows by number.
Exits 0 when every row was imported, 1 when some were rejected, 2 on a bad command."""

import asyncio
import sys
from pathlib import Path


CERTIFICATES = "certificates"


def add_arguments(commands) -> None:  # type: ignore[no-untyped-def]
    command = commands.add_parser("import", help="load properties, tenancies, contractors or certificates from a CSV file")
    command.add_argument("kind", help="what the file holds: properties, tenancies, contractors, certificates")
    command.add_argument("file", type=Path)


def main(kind: str, file: Path) -> int:
    # The database code loads only when asked, so the other commands start quickly.
    from services.scheduler.importing import KINDS
    from services.scheduler.settings import SchedulerSettings

    if kind == CERTIFICATES:
        return _certificates(file)
    if kind not in KINDS:
        print(
            f"doorstep import: unknown kind '{kind}'; expected one of {', '.join(sorted({*KINDS, CERTIFICATES}))}",
            file=sys.stderr,
        )
        return 2
    if not file.is_file():
        print(f"doorstep import: no such file: {file}", file=sys.stderr)
        return 2
    report = asyncio.run(_run(SchedulerSettings().database(), kind, file))
    print("\n".join(report.lines()))
    return 1 if report.rejected else 0


async def _run(database_url: str, kind: str, file: Path):  # type: ignore[no-untyped-def]
    from shared.db import make_engine, migrate, session_factory
    from services.scheduler.bootstrap import MIGRATIONS
    from services.scheduler.importing import import_rows, read_csv

    await migrate(MIGRATIONS, database_url)
    engine = make_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            return await import_rows(session, kind, read_csv(file))
    finally:
        await engine.dispose()


def _certificates(file: Path) -> int:
    """Gas and electrical certificates per home, fire risk assessments per block."""
    from shared.calendar import local_date
    from shared.events import utcnow
    from services.scheduler.compliance.certificate_rows import BadFile
    from services.scheduler.compliance.importing import import_file

    if not file.is_file():
        print(f"doorstep import: no such file: {file}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(import_file(file, local_date(utcnow())))
    except BadFile as problem:
        print(f"doorstep import: {file.name}: {problem}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 1 if report.rejected else 0
