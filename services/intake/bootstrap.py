"""Wiring: the intake service from its settings."""

from pathlib import Path

from shared.database_work import database_work
from shared.service import Runtime, build_runtime
from services.intake.adapters.tables import metadata
from services.intake.settings import IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: IntakeSettings | None = None) -> Runtime:
    runtime = build_runtime(settings or IntakeSettings(), metadata, MIGRATIONS)
    # One intake process relays its outbox (several were tried over one SQLite file
    # and were slower).
    runtime.outbox.relay_alone(database_work(runtime.engine))
    return runtime
