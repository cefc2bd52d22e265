"""`doorstep import certificates FILE`: every good row recorded (with its event, left in
the outbox for the running service to relay), every bad one reported by row, the whole
file's outcome summed up."""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from shared.events.compliance import CertificateKind
from shared.service import Runtime
from services.scheduler.adapters.tables import blocks, properties
from services.scheduler.compliance.certificate_rows import Rejected, read_certificates
from services.scheduler.compliance.recording import Certificate, record_certificate

LOOKUP_CHUNK = 500


@dataclass
class ImportReport:
    recorded: int = 0
    already_known: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (
            f"certificates: {self.recorded} recorded, {self.already_known} already on record, "
            f"{len(self.rejected)} rejected"
        )
        return [head, *(f"  {rejected}" for rejected in self.rejected)]


async def import_certificates(runtime: Runtime, path: Path, today: date) -> ImportReport:
    with path.open(newline="", encoding="utf-8-sig") as lines:
        good, bad = read_certificates(lines, today)
    report = ImportReport(rejected=bad)
    known = await _known_subjects(runtime, {c.subject_id for _, c in good})
    for line, certificate in good:
        if not _exists(certificate, known):
            report.rejected.append(
                Rejected(line, (f"{_column(certificate.kind)}: no such {_what(certificate.kind)}",))
            )
        elif await record_certificate(runtime, certificate):
            report.recorded += 1
        else:
            report.already_known += 1
    report.rejected.sort(key=lambda r: r.line)
    return report


async def _known_subjects(runtime: Runtime, ids: set[str]) -> dict[str, set[str]]:
    wanted = sorted(ids)
    known: dict[str, set[str]] = {"property": set(), "block": set()}
    async with runtime.sessions() as session:
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            known["property"] |= set(
                await session.scalars(select(properties.c.id).where(properties.c.id.in_(chunk)))
            )
            known["block"] |= set(await session.scalars(select(blocks.c.id).where(blocks.c.id.in_(chunk))))
    return known


def _what(kind: CertificateKind) -> str:
    return "block" if kind is CertificateKind.FIRE_RISK_ASSESSMENT else "property"


def _column(kind: CertificateKind) -> str:
    return f"{_what(kind)}_id"


def _exists(certificate: Certificate, known: dict[str, set[str]]) -> bool:
    return certificate.subject_id in known[_what(certificate.kind)]


async def import_file(path: Path, today: date) -> ImportReport:
    """The CLI's way in: the scheduler's own database, migrated first."""
    from shared.db import migrate
    from services.scheduler.bootstrap import bootstrap
    from services.scheduler.settings import SchedulerSettings

    runtime = bootstrap(SchedulerSettings(timed_jobs=False))
    await migrate(runtime.migrations, runtime.settings.database())
    try:
        return await import_certificates(runtime, path, today)
    finally:
        await runtime.engine.dispose()
