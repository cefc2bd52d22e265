"""Runs the timed jobs on the replica holding the leader lease.

Every replica tries to claim the lease every `renew` seconds. The one that holds it
starts (or resumes) its APScheduler; one that loses it pauses its scheduler. Jobs live
in the database, so a replica taking over finds them with their next run times, and a
run that was due while nobody led is run once on takeover (coalesced, within its grace
time).

The scheduler is APScheduler's BackgroundScheduler, not the asyncio one: the job store
is synchronous, and on SQLite a synchronous write made on the event loop while one of
the service's own transactions holds the write lock would wait for a transaction that
cannot finish until the loop is free again. In its own threads it simply waits its turn."""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.job import Job as StoredJob
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger

from shared.calendar import LONDON
from services.scheduler.timed import registry
from services.scheduler.timed.lease import LeaderLease

log = logging.getLogger(__name__)

RUN = "services.scheduler.timed.registry:run_from_thread"
WORKERS = 4


@dataclass(frozen=True)
class TimedJob:
    name: str
    job: registry.Job
    trigger: BaseTrigger
    # How late a run may start and still happen (a takeover, a restart).
    grace_seconds: int = 3600


@dataclass
class TimedJobs:
    lease: LeaderLease
    jobs: list[TimedJob]
    renew_seconds: float
    make_store: Callable[[], Any]
    scheduler: BackgroundScheduler | None = None
    leading: bool = False
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self) -> None:
        registry.register({j.name: j.job for j in self.jobs}, self.lease.held)
        self._task = asyncio.create_task(self._lead(), name="timed-jobs-lease")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        registry.unregister()
        if self.scheduler and self.scheduler.state != STATE_STOPPED:
            await asyncio.to_thread(self.scheduler.shutdown, wait=False)
        if self.leading:
            await self.lease.release()
        self.leading = False

    async def _lead(self) -> None:
        while True:
            try:
                held = await self.lease.claim()
            except Exception as error:  # noqa: BLE001 - an unreachable database means not leading
                log.warning("lease not renewed", extra={"reason": type(error).__name__})
                held = False
            try:
                if held and not self.leading:
                    await asyncio.to_thread(self._take_over)
                elif not held and self.leading:
                    await asyncio.to_thread(self._step_down)
            except Exception as error:  # noqa: BLE001 - e.g. the job store unreachable: try again
                log.warning("timed jobs not taken over", extra={"reason": type(error).__name__})
            await asyncio.sleep(self.renew_seconds)

    def _take_over(self) -> None:
        log.info("leading timed jobs", extra={"count": len(self.jobs)})
        if self.scheduler is None:
            self.scheduler = BackgroundScheduler(
                jobstores={"default": self.make_store()},
                executors={"default": ThreadPoolExecutor(WORKERS)},
                job_defaults={"coalesce": True, "max_instances": 1},
                timezone=LONDON,
            )
            self.scheduler.start(paused=True)
        for job in self.jobs:
            self._ensure(job)
        if self.scheduler.state == STATE_PAUSED:
            self.scheduler.resume()
        self.leading = True

    def _step_down(self) -> None:
        log.warning("no longer leading timed jobs")
        if self.scheduler is not None:
            self.scheduler.pause()
        self.leading = False

    def _ensure(self, job: TimedJob) -> None:
        """Add a job once; keep a stored job's next run unless its trigger changed."""
        assert self.scheduler is not None
        stored: StoredJob | None = self.scheduler.get_job(job.name)
        if stored is not None and str(stored.trigger) == str(job.trigger):
            return
        if stored is not None:
            self.scheduler.remove_job(job.name)
        self.scheduler.add_job(
            RUN,
            trigger=job.trigger,
            args=[job.name],
            id=job.name,
            name=job.name,
            misfire_grace_time=job.grace_seconds,
        )
