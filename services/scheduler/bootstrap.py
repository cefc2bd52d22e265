"""Wiring: the scheduler service from its settings."""

from pathlib import Path

from shared.service import Runtime, build_runtime
from services.scheduler.adapters.all_tables import metadata
from services.scheduler.settings import SchedulerSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: SchedulerSettings | None = None) -> Runtime:
    return build_runtime(settings or SchedulerSettings(), metadata, MIGRATIONS)
