import pytest

from tests.fixtures.servers import in_ci

pytest_plugins = ["tests.fixtures.kafka", "tests.fixtures.postgres"]

REAL_SERVER_TIERS = ("tests/integration", "tests/e2e")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped real-broker or PostgreSQL test fails the run."""
    if not in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    real = [r for r in skipped if r.nodeid.startswith(REAL_SERVER_TIERS)]
    if real:
        reporter.write_line(f"CI: {len(real)} real-server tests were skipped; that fails the run")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
