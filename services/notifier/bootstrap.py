"""Wiring: the notifier service from its settings."""

from pathlib import Path

from shared.service import Runtime, build_runtime
from services.notifier.adapters.tables import metadata
from services.notifier.settings import NotifierSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: NotifierSettings | None = None) -> Runtime:
    return build_runtime(settings or NotifierSettings(), metadata, MIGRATIONS)
