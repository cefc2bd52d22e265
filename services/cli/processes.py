"""The four services as child processes: started, waited for, stopped. Used by
`doorstep run` and by the end-to-end tests, so both exercise the same launcher."""

import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import IO

import httpx

SERVICES = ("intake", "scheduler", "notifier", "sla_monitor")

Children = dict[str, subprocess.Popen[bytes]]


class NotReady(RuntimeError):
    """A service exited or did not become ready in time."""


def start(name: str, env: Mapping[str, str], output: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"],
        env=dict(env),
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )


def start_all(env: Mapping[str, str], output: Mapping[str, IO[bytes]] | None = None) -> Children:
    return {name: start(name, env, output[name] if output else None) for name in SERVICES}


def wait_ready(children: Children, ports: Mapping[str, int], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    waiting = set(children)
    while waiting and time.monotonic() < deadline:
        for name in sorted(waiting):
            if children[name].poll() is not None:
                raise NotReady(f"{name} exited during start-up")
            if _ready(ports[name]):
                waiting.discard(name)
        time.sleep(0.3)
    if waiting:
        raise NotReady(f"not ready after {timeout:.0f} s: {', '.join(sorted(waiting))}")


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stop_all(children: Children, grace: float = 20) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            child.kill()
