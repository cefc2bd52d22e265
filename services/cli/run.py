"""`doorstep run`: the local broker and the four services, until Ctrl-C stops them all."""

import os
import secrets
import signal
import subprocess
import sys
import time

import httpx

from services.cli import kafka
from services.intake.settings import IntakeSettings
from services.notifier.settings import NotifierSettings

SERVICES = {"intake": 8081, "scheduler": 8082, "notifier": 8083, "sla_monitor": 8084}


def main() -> int:
    # Ctrl-C and a polite kill both stop everything, children first, then the broker.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    if kafka.script("up") != 0:
        return 1
    env = {**os.environ}
    env.setdefault("INTAKE_STAFF_TOKENS", "dev-" + secrets.token_urlsafe(12))
    children = {name: _start(name, env) for name in SERVICES}
    try:
        if not _all_ready(children):
            return 1
        _print_welcome(env["INTAKE_STAFF_TOKENS"].split(",")[0])
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
        print("doorstep: a service stopped; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)
        kafka.script("down")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _start(name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=env)


def _all_ready(children: dict[str, subprocess.Popen[bytes]], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    waiting = dict(SERVICES)
    while waiting and time.monotonic() < deadline:
        for name, port in list(waiting.items()):
            if children[name].poll() is not None:
                print(f"doorstep: {name} exited during start-up", file=sys.stderr)
                return False
            if _ready(port):
                waiting.pop(name)
        time.sleep(0.3)
    if waiting:
        print(f"doorstep: not ready after {timeout:.0f} s: {', '.join(waiting)}", file=sys.stderr)
    return not waiting


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _print_welcome(staff_token: str) -> None:
    intake, notifier = IntakeSettings(), NotifierSettings()
    domain = intake.mail_domain
    print(
        f"""
Doorstep is running.
  Send mail (any SMTP client) to repairs_reporting@{domain}, customer_desk@{domain}
  or complaints@{domain} at {intake.smtp_host}:{intake.smtp_port}.
  Outgoing messages are written to {notifier.outbox_dir.resolve()}/
  Watch events:   doorstep watch doorstep.cases   (or doorstep.sla.breaches, ...)
  HTTP APIs:      {'  '.join(f'{n} http://127.0.0.1:{p}/docs' for n, p in SERVICES.items())}
  Staff API token for this run: {staff_token}
Press Ctrl-C to stop everything.
""",
        flush=True,
    )


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
