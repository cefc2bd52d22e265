"""The four services as separate processes on a real broker, for end-to-end tests,
started by the same launcher as `doorstep run`.

`running_system(..., at=moment)` starts every process with its clock reading `moment`
(DOORSTEP_CLOCK_OFFSET_SECONDS, shared/clock.py). Starting it again on the same working
folder with a later moment moves the whole system forward in time: the databases, the
consumer groups' offsets and the logs carry over."""

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shared.clock import offset_to
from services.cli.processes import SERVICES, NotReady, start_all, stop_all, wait_ready

BASE_PORT = int(os.environ.get("DOORSTEP_E2E_BASE_PORT", "18080"))
STAFF_TOKEN = "e2e-staff-token"
MIME_TOKEN = "e2e-mime-token"


@dataclass(frozen=True)
class System:
    ports: dict[str, int]
    smtp_port: int
    outbox_dir: Path
    logs: Path

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"


def service_env(kafka: str, workdir: Path) -> tuple[dict[str, str], System]:
    ports = {name: BASE_PORT + 1 + i for i, name in enumerate(SERVICES)}
    system = System(ports, BASE_PORT + 25, workdir / "outbox", workdir / "logs")
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka}
    for name in SERVICES:
        prefix = name.upper() + "_"
        env[prefix + "HTTP_PORT"] = str(ports[name])
        env[prefix + "DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / name}.db"
    env["INTAKE_SMTP_PORT"] = str(system.smtp_port)
    env["INTAKE_STAFF_TOKENS"] = STAFF_TOKEN
    env["INTAKE_MIME_TOKENS"] = MIME_TOKEN
    env["NOTIFIER_OUTBOX_DIR"] = str(system.outbox_dir)
    return env, system


@contextmanager
def running_system(
    kafka: str,
    workdir: Path,
    timeout: float = 90,
    at: datetime | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[System]:
    """`settings`: environment variables for the services, over the defaults here."""
    env, system = service_env(kafka, workdir)
    env.update(settings or {})
    if at is not None:
        env["DOORSTEP_CLOCK_OFFSET_SECONDS"] = str(offset_to(at))
    system.logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as files:
        logs = {name: files.enter_context((system.logs / f"{name}.log").open("ab")) for name in SERVICES}
        children = start_all(env, logs)
        try:
            try:
                wait_ready(children, system.ports, timeout)
            except NotReady as problem:
                raise RuntimeError(f"{problem}\n" + "\n".join(tail_log(system, n) for n in SERVICES)) from None
            yield system
        finally:
            stop_all(children)


def tail_log(system: System, name: str, lines: int = 40) -> str:
    path = system.logs / f"{name}.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:])
