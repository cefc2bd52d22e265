"""Wiring: the intake service from its settings."""

from pathlib import Path

from shared.service import Runtime, build_runtime
from services.intake.adapters.tables import metadata
from services.intake.settings import IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: IntakeSettings | None = None) -> Runtime:
    return build_runtime(settings or IntakeSettings(), metadata, MIGRATIONS)
