"""`doorstep run`: the local broker and the four services, until Ctrl-C stops them all."""

import os
import secrets
import signal
import sys
import time

from services.cli import kafka
from services.cli.processes import NotReady, start_all, stop_all, wait_ready
from services.intake.settings import IntakeSettings
from services.notifier.settings import NotifierSettings
from services.scheduler.settings import SchedulerSettings
from services.sla_monitor.settings import SlaMonitorSettings


def main() -> int:
    # Ctrl-C and a polite kill both stop everything, children first, then the broker.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    if kafka.script("up") != 0:
        return 1
    env = {**os.environ}
    env.setdefault("INTAKE_STAFF_TOKENS", "dev-" + secrets.token_urlsafe(12))
    ports = _ports()
    children = start_all(env)
    try:
        wait_ready(children, ports)
        _print_welcome(env["INTAKE_STAFF_TOKENS"].split(",")[0], ports)
        while all(child.poll() is None for child in children.values()):
            time.sleep(0.5)
        print("doorstep: a service stopped; stopping the rest", file=sys.stderr)
        return 1
    except NotReady as problem:
        print(f"doorstep: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all(children)
        kafka.script("down")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _ports() -> dict[str, int]:
    settings = (IntakeSettings(), SchedulerSettings(), NotifierSettings(), SlaMonitorSettings())
    return {s.service_name: s.http_port for s in settings}


def _print_welcome(staff_token: str, ports: dict[str, int]) -> None:
    intake, notifier = IntakeSettings(), NotifierSettings()
    domain = intake.mail_domain
    apis = "  ".join(f"{name} http://127.0.0.1:{port}/docs" for name, port in ports.items())
    print(
        f"""
Doorstep is running.
  Send mail (any SMTP client) to repairs_reporting@{domain}, customer_desk@{domain}
  or complaints@{domain} at {intake.smtp_host}:{intake.smtp_port}.
  Outgoing messages are written to {notifier.outbox_dir.resolve()}/
  Watch events:   doorstep watch doorstep.cases   (or doorstep watch breaches)
  HTTP APIs:      {apis}
  Staff API token for this run: {staff_token}
Press Ctrl-C to stop everything.
""",
        flush=True,
    )
