"""What the fault tests break and mend: a Kafka broker and a PostgreSQL cluster of their
own (so the shared test broker and database are never disturbed), the four services as
processes that can be killed with SIGKILL and started again, and a mail server that
records every message the notifier sends."""

import email
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from aiosmtpd.controller import Controller

from services.cli.processes import SERVICES, start, wait_ready
from tests.e2e.system import System, service_env

REPO = Path(__file__).resolve().parents[2]


def _script(name: str, action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(REPO / "deploy" / name), action], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=600)


class PrivateBroker:
    """A local broker (deploy/kafka.sh) on ports and in a directory of its own."""

    def __init__(self, var: Path, port: int) -> None:
        self.var, self.port = var, port
        self.bootstrap = f"127.0.0.1:{port}"
        libs = REPO / "var" / "kafka-libs"  # the jars already fetched, shared
        var.mkdir(parents=True, exist_ok=True)
        if libs.exists() and not (var / "kafka-libs").exists():
            (var / "kafka-libs").symlink_to(libs)

    def _run(self, action: str) -> None:
        env = {"PYTHON": sys.executable, "DOORSTEP_VAR": str(self.var), "KAFKA_PORT": str(self.port),
               "KAFKA_CONTROLLER_PORT": str(self.port + 1)}
        done = _script("kafka.sh", action, env)
        if done.returncode != 0:
            raise RuntimeError(f"kafka.sh {action}: {done.stderr.strip()[-2000:]}")

    def up(self) -> None:
        self._run("up")

    def down(self) -> None:
        self._run("down")


class PrivateDatabase:
    """A PostgreSQL cluster (deploy/postgres.sh) on a port of its own, one database per service."""

    def __init__(self, var: Path, port: int) -> None:
        self.env = {"DOORSTEP_VAR": str(var), "POSTGRES_PORT": str(port)}

    def _run(self, action: str) -> str:
        done = _script("postgres.sh", action, self.env)
        if done.returncode != 0:
            raise RuntimeError(f"postgres.sh {action}: {done.stderr.strip()[-2000:]}")
        return done.stdout.strip()

    def up(self) -> None:
        self._run("up")

    def down(self) -> None:
        self._run("down")

    def admin_url(self) -> str:
        return self._run("url")

    def url_of(self, database: str) -> str:
        return self.admin_url().rsplit("/", 1)[0] + f"/{database}"


@dataclass
class Sent:
    message_id: str
    to: tuple[str, ...]
    key: str


class MailRecorder:
    """The notifier's mail relay: records every message it is given, in order."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Sent] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802, ANN001
        mail = email.message_from_bytes(envelope.original_content or envelope.content)
        self.received.append(Sent(mail["Message-ID"] or "", tuple(envelope.rcpt_tos), mail["X-Doorstep-Key"] or ""))
        return "250 2.0.0 OK"

    def __enter__(self) -> "MailRecorder":
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@dataclass
class Services:
    """The four services as processes, each of which can be killed and started again."""

    env: dict[str, str]
    system: System
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, IO[bytes]] = field(default_factory=dict)
    kills: dict[str, int] = field(default_factory=dict)

    def start(self, *names: str, timeout: float = 120) -> None:
        for name in names:
            log = self.logs.setdefault(name, (self.system.logs / f"{name}.log").open("ab"))
            self.children[name] = start(name, self.env, log)
        wait_ready({n: self.children[n] for n in names}, self.system.ports, timeout)

    def kill(self, name: str) -> None:
        child = self.children[name]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        self.kills[name] = self.kills.get(name, 0) + 1

    def running(self) -> dict[str, bool]:
        return {name: child.poll() is None for name, child in self.children.items()}

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        for log in self.logs.values():
            log.close()


def services_on(broker: PrivateBroker, database: PrivateDatabase, mail: MailRecorder, workdir: Path) -> Services:
    env, system = service_env(broker.bootstrap, workdir)
    system.logs.mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        env[name.upper() + "_DATABASE_URL"] = database.url_of(name)
    env |= {
        "NOTIFIER_SMTP_HOST": "127.0.0.1",
        "NOTIFIER_SMTP_PORT": str(mail.port),
        "NOTIFIER_SMTP_STARTTLS": "never",
    }
    return Services(env, system)
