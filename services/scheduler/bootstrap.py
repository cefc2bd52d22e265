"""Wiring: the scheduler service from its settings."""

from pathlib import Path

from shared.service import Runtime, build_runtime
from services.scheduler.adapters.all_tables import metadata
from services.scheduler.compliance import gas_replies
from services.scheduler.compliance import publications as compliance_publications
from services.scheduler.settings import SchedulerSettings
from services.scheduler.timed import wiring as timed_jobs
from services.scheduler.visits import contractor_missed

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: SchedulerSettings | None = None) -> Runtime:
    settings = settings or SchedulerSettings()
    runtime = build_runtime(settings, metadata, MIGRATIONS)
    compliance_publications.declare(runtime.broker)
    gas_replies.subscribe_replies(runtime, settings.gas_offer_lead_working_days)
    timed_jobs.install(runtime, settings, contractor_missed)
    return runtime
