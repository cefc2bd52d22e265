"""What a stored job calls. The job store keeps a textual reference to `run_from_thread`
and the job's name; the running process registers the coroutine behind each name, so
stored jobs hold nothing that cannot be pickled (no runtime, no connections).

APScheduler runs in threads of its own (its job store is synchronous and must never
block the service's event loop); each job's coroutine is handed to the service's loop
and the scheduler's worker thread waits for it."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import CancelledError, Future

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]

_jobs: dict[str, Job] = {}
_may_run: list[Callable[[], bool]] = []
_loop: list[asyncio.AbstractEventLoop] = []
_running: set[Future[None]] = set()


def register(jobs: dict[str, Job], may_run: Callable[[], bool]) -> None:
    """Called on the service's event loop, which will run the jobs."""
    _jobs.clear()
    _jobs.update(jobs)
    _may_run[:] = [may_run]
    _loop[:] = [asyncio.get_running_loop()]


def unregister() -> None:
    """Forget the jobs and cancel any still running, so no worker thread waits on."""
    _jobs.clear()
    _may_run.clear()
    _loop.clear()
    for future in list(_running):
        future.cancel()


def run_from_thread(name: str) -> None:
    """APScheduler's entry point, on one of its worker threads."""
    if not _loop:
        return
    future = asyncio.run_coroutine_threadsafe(run(name), _loop[0])
    _running.add(future)
    try:
        future.result()
    except CancelledError:
        log.info("timed job cancelled", extra={"path": name})
    finally:
        _running.discard(future)


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
