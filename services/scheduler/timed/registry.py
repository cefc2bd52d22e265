"""What a stored job calls. The job store keeps a textual reference to `run` and the
job's name; the running process registers the coroutine behind each name, so stored
jobs hold nothing that cannot be pickled (no runtime, no connections)."""

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]

_jobs: dict[str, Job] = {}
_may_run: list[Callable[[], bool]] = []


def register(jobs: dict[str, Job], may_run: Callable[[], bool]) -> None:
    _jobs.clear()
    _jobs.update(jobs)
    _may_run[:] = [may_run]


def unregister() -> None:
    _jobs.clear()
    _may_run.clear()


async def run(name: str) -> None:
    """Run one registered job, only while this replica is the leader."""
    job = _jobs.get(name)
    if job is None or not _may_run or not _may_run[0]():
        log.info("timed job not run here", extra={"path": name})
        return
    try:
        outcome = await job()
    except Exception as error:  # noqa: BLE001 - logged; the trigger brings it back
        log.warning("timed job failed", extra={"path": name, "reason": type(error).__name__})
        return
    log.info("timed job ran", extra={"path": name, "count": outcome if isinstance(outcome, int) else None})
