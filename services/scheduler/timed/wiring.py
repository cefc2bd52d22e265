"""The scheduler's timed jobs, from its settings, as start and stop hooks."""

from datetime import timedelta
from functools import partial

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from shared.calendar import LONDON, local_date
from shared.events import utcnow
from shared.events.compliance import CertificateKind
from shared.service import Runtime
from services.scheduler.compliance.gas_sweep import GasRules, sweep_gas
from services.scheduler.compliance.notice_sweep import sweep_notices
from services.scheduler.settings import SchedulerSettings
from services.scheduler.timed.jobstore import job_store
from services.scheduler.timed.lease import LeaderLease
from services.scheduler.timed.missed import ReportMissed, report_missed_slots
from services.scheduler.timed.reminders import send_due_reminders
from services.scheduler.timed.runner import TimedJob, TimedJobs

DAY = 24 * 3600


def every(seconds: float) -> IntervalTrigger:
    return IntervalTrigger(seconds=seconds, timezone=LONDON)


def daily_sweep(settings: SchedulerSettings) -> BaseTrigger:
    if settings.compliance_sweep_seconds:
        return every(settings.compliance_sweep_seconds)
    at = settings.compliance_sweep_at
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=LONDON)


async def compliance_sweep(runtime: Runtime, settings: SchedulerSettings) -> int:
    today = local_date(utcnow())
    rules = GasRules(
        chase_after=timedelta(days=settings.gas_chase_after_days),
        lead_working_days=settings.gas_offer_lead_working_days,
        booking_link=settings.gas_booking_link,
    )
    gas = await sweep_gas(runtime, rules, today)
    electrical = await sweep_notices(
        runtime, CertificateKind.ELECTRICAL_INSTALLATION, settings.electrical_notice_months, today
    )
    fire = await sweep_notices(
        runtime, CertificateKind.FIRE_RISK_ASSESSMENT, settings.fire_risk_notice_months, today
    )
    return (
        gas.offered
        + gas.chased
        + gas.escalated
        + electrical["due"]
        + electrical["overdue"]
        + fire["due"]
        + fire["overdue"]
    )


def timed_jobs(runtime: Runtime, settings: SchedulerSettings, report_missed: ReportMissed) -> TimedJobs:
    grace = timedelta(minutes=settings.missed_after_minutes)
    jobs = [
        TimedJob(
            "appointment-reminders",
            partial(send_due_reminders, runtime),
            every(settings.reminder_check_seconds),
        ),
        TimedJob(
            "missed-slots",
            partial(report_missed_slots, runtime, grace, report_missed),
            every(settings.missed_check_seconds),
        ),
        TimedJob(
            "compliance-sweep",
            partial(compliance_sweep, runtime, settings),
            daily_sweep(settings),
            grace_seconds=DAY // 2,
        ),
    ]
    lease = LeaderLease(runtime.sessions, timedelta(seconds=settings.leader_lease_seconds))
    return TimedJobs(
        lease=lease,
        jobs=jobs,
        renew_seconds=settings.leader_renew_seconds,
        make_store=partial(job_store, settings.database()),
    )


def install(runtime: Runtime, settings: SchedulerSettings, report_missed: ReportMissed) -> TimedJobs | None:
    """Add the timed jobs to the service's start and stop hooks (unless turned off)."""
    if not settings.timed_jobs:
        return None
    jobs = timed_jobs(runtime, settings, report_missed)
    runtime.on_start.append(jobs.start)
    runtime.on_stop.append(jobs.stop)
    return jobs
