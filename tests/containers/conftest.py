"""The containers tier: the journeys again against the images built from deploy/, run by
`docker compose` through testcontainers. Where no Docker engine (or no compose plugin)
answers, every test here is skipped, and the reason is printed in the summary. This tier is
not one CI must run (tests/conftest.py REAL_SERVER_TIERS), so a skip here never fails CI."""

import shutil
import subprocess

import pytest

from tests.fixtures.servers import docker_answers

_skips: list[str] = []


def why_no_docker() -> str | None:
    """None when a Docker engine and `docker compose` both answer; otherwise why not."""
    if shutil.which("docker") is None:
        return "no docker client is installed"
    if not docker_answers():
        return "no Docker engine answers (the docker client is here, but the daemon is not)"
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    if compose.returncode != 0:
        return "the Docker engine answers but the `docker compose` plugin is missing"
    return None


@pytest.fixture(scope="session")
def docker_engine() -> None:
    if reason := why_no_docker():
        pytest.skip(f"containers tier skipped: {reason}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and report.nodeid.startswith("tests/containers") and isinstance(report.longrepr, tuple):
        _skips.append(f"{report.nodeid}: {report.longrepr[2]}")


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if _skips:
        terminalreporter.section("containers tier")
        for line in _skips:
            terminalreporter.write_line(line)
