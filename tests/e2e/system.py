"""The four services as separate processes on a real broker, for end-to-end tests."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVICES = ("intake", "scheduler", "notifier", "sla_monitor")
BASE_PORT = int(os.environ.get("DOORSTEP_E2E_BASE_PORT", "18080"))
STAFF_TOKEN = "e2e-staff-token"


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
    env["NOTIFIER_OUTBOX_DIR"] = str(system.outbox_dir)
    return env, system


@contextmanager
def running_system(kafka: str, workdir: Path, timeout: float = 90) -> Iterator[System]:
    env, system = service_env(kafka, workdir)
    system.logs.mkdir(parents=True, exist_ok=True)
    children = {name: _start(name, env, system.logs) for name in SERVICES}
    try:
        _wait_ready(system, children, timeout)
        yield system
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def _start(name: str, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    log = (logs / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def _wait_ready(system: System, children: dict[str, subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = set(SERVICES)
    while waiting and time.monotonic() < deadline:
        for name in list(waiting):
            if children[name].poll() is not None:
                raise RuntimeError(f"{name} exited at start-up:\n{tail_log(system, name)}")
            try:
                if httpx.get(system.url(name, "/readyz"), timeout=2).status_code == 200:
                    waiting.discard(name)
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    if waiting:
        raise RuntimeError(
            f"not ready in {timeout} s: {waiting}\n" + "\n".join(tail_log(system, n) for n in waiting)
        )


def tail_log(system: System, name: str, lines: int = 40) -> str:
    path = system.logs / f"{name}.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:])
