"""Wiring: the sla_monitor service from its settings."""

from pathlib import Path

from shared.service import Runtime, build_runtime
from services.sla_monitor.adapters.tables import metadata
from services.sla_monitor.settings import SlaMonitorSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: SlaMonitorSettings | None = None) -> Runtime:
    return build_runtime(settings or SlaMonitorSettings(), metadata, MIGRATIONS)
