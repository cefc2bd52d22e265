"""The Docker set-up (docker-compose.yml, deploy/Dockerfile) agrees with the code.

No Docker engine is needed: the compose file is read as YAML, and each service's environment
is checked against the variables its settings class actually reads, so a field added to a
settings class without a line in docker-compose.yml fails here.
"""

import http.server
import importlib
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import AliasChoices, AliasPath, SecretStr

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
INIT_SQL = ROOT / "deploy" / "postgres" / "init-databases.sql"

# service -> (settings module, settings class, HTTP port)
APP_SERVICES: dict[str, tuple[str, str, int]] = {
    "intake": ("services.intake.settings", "IntakeSettings", 8081),
    "scheduler": ("services.scheduler.settings", "SchedulerSettings", 8082),
    "notifier": ("services.notifier.settings", "NotifierSettings", 8083),
    "sla_monitor": ("services.sla_monitor.settings", "SlaMonitorSettings", 8084),
}
INFRA_SERVICES = ("kafka", "postgres", "mailcatcher")
INTAKE_SMTP_PORT = 2525
KAFKA_INTERNAL = "kafka:9092"

_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def interpolate(value: str) -> str:
    """Compose's variable substitution, as if no variable were set: the defaults."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        if m.group("op") in (":-", "-"):
            return m.group("arg")
        return ""

    return _INTERPOLATION.sub(sub, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def settings_class(service: str) -> type:
    module, name, _ = APP_SERVICES[service]
    return getattr(importlib.import_module(module), name)


def env_prefix(cls: type) -> str:
    return cls.model_config.get("env_prefix", "")


def env_names(cls: type) -> dict[str, set[str]]:
    """Field name -> the environment variables pydantic-settings reads it from."""
    prefix = env_prefix(cls)
    names: dict[str, set[str]] = {}
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, str):
            accepted = {alias}
        elif isinstance(alias, AliasChoices):
            accepted = {c for c in alias.choices if isinstance(c, str)}
            accepted |= {
                c.path[0] for c in alias.choices if isinstance(c, AliasPath) and c.path
            }
        elif isinstance(alias, AliasPath):
            accepted = {str(alias.path[0])}
        else:
            accepted = {prefix + field_name}
        names[field_name] = {n.upper() for n in accepted}
    # shared.settings.ServiceSettings also takes the broker from the plain variable.
    if "kafka_bootstrap_servers" in names:
        names["kafka_bootstrap_servers"].add("KAFKA_BOOTSTRAP_SERVERS")
    return names


def environment(service_def: dict[str, Any]) -> dict[str, str]:
    """A service's `environment:` (mapping or list form), keys as written, values as text."""
    env = service_def.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in env)
        env = dict(pairs)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def resolved_environment(service_def: dict[str, Any]) -> dict[str, str]:
    return {k: interpolate(v) for k, v in environment(service_def).items()}


def published_ports(service_def: dict[str, Any]) -> dict[int, int | None]:
    """Container port -> host port, from short ("[IP:]HOST:CONTAINER") or long syntax."""
    ports: dict[int, int | None] = {}
    for entry in service_def.get("ports") or []:
        if isinstance(entry, dict):
            target = int(entry["target"])
            published = entry.get("published")
            ports[target] = int(published) if published is not None else None
            continue
        parts = interpolate(str(entry)).split("/")[0].split(":")
        ports[int(parts[-1])] = int(parts[-2]) if len(parts) >= 2 else None
    return ports


def build_settings(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    """The settings object the container would get, from exactly this environment."""
    cls = settings_class(service)
    prefixes = tuple(env_prefix(settings_class(s)) for s in APP_SERVICES)
    for key in list(os.environ):
        if key.startswith(prefixes) or key == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return cls()


# --- the services ----------------------------------------------------------------------------


def test_all_services_are_defined(services: dict[str, Any]) -> None:
    missing = {*INFRA_SERVICES, *APP_SERVICES} - set(services)
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_builds_from_the_shared_dockerfile(
    services: dict[str, Any], service: str
) -> None:
    build = services[service].get("build")
    assert isinstance(build, dict), f"{service}: build must name context, dockerfile and args"
    context = COMPOSE_FILE.parent / build.get("context", ".")
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE.resolve()
    args = build.get("args") or {}
    if isinstance(args, list):
        args = dict(a.split("=", 1) for a in args)
    assert args.get("SERVICE") == service


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_publishes_its_ports(services: dict[str, Any], service: str) -> None:
    ports = published_ports(services[service])
    http_port = APP_SERVICES[service][2]
    assert ports.get(http_port) == http_port, f"{service}: publish {http_port}:{http_port}"
    if service == "intake":
        assert ports.get(INTAKE_SMTP_PORT) == INTAKE_SMTP_PORT


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_waits_for_kafka_and_postgres_and_reports_readiness(
    services: dict[str, Any], service: str
) -> None:
    svc = services[service]
    depends_on = svc.get("depends_on")
    assert isinstance(depends_on, dict), f"{service}: depends_on needs conditions"
    for dep in ("kafka", "postgres"):
        assert depends_on.get(dep, {}).get("condition") == "service_healthy", (service, dep)
    assert svc.get("restart") == "unless-stopped"
    test = svc["healthcheck"]["test"]
    text = test if isinstance(test, str) else " ".join(map(str, test))
    assert "/readyz" in text
    assert "curl" not in text and "wget" not in text, "the slim image has neither"


# --- environment -----------------------------------------------------------------------------


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_setting_is_set(services: dict[str, Any], service: str) -> None:
    env = environment(services[service])
    unset = sorted(
        "/".join(sorted(accepted))
        for accepted in env_names(settings_class(service)).values()
        if not accepted & set(env)
    )
    assert not unset, f"{service}: docker-compose.yml does not set {unset}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_no_unknown_service_variables(services: dict[str, Any], service: str) -> None:
    env = environment(services[service])
    read = set().union(*env_names(settings_class(service)).values())
    own_prefix = env_prefix(settings_class(service))
    unknown = sorted(k for k in env if k.upper().startswith(own_prefix) and k.upper() not in read)
    assert not unknown, f"{service}: {settings_class(service).__name__} reads none of {unknown}"
    other_prefixes = {env_prefix(settings_class(s)) for s in APP_SERVICES if s != service}
    foreign = sorted(
        k
        for k in env
        for prefix in other_prefixes
        if k.upper().startswith(prefix) and not own_prefix.startswith(prefix)
    )
    assert not foreign, f"{service}: variables of another service: {foreign}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_environment_gives_valid_container_settings(
    services: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = build_settings(service, resolved_environment(services[service]), monkeypatch)
    assert settings.service_name == service
    assert settings.http_host == "0.0.0.0", "a container must listen on all interfaces"
    assert settings.http_port == APP_SERVICES[service][2]
    if service == "intake":
        assert settings.smtp_host == "0.0.0.0"
        assert settings.smtp_port == INTAKE_SMTP_PORT


@pytest.mark.parametrize("service", APP_SERVICES)
def test_database_url_is_the_services_own_postgres_database(
    services: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = build_settings(service, resolved_environment(services[service]), monkeypatch)
    url = urlsplit(settings.database())
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert (url.port or 5432) == 5432
    assert url.path == f"/{service}"
    pg_env = resolved_environment(services["postgres"])
    assert url.username == pg_env["POSTGRES_USER"]
    assert url.password == pg_env["POSTGRES_PASSWORD"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_kafka_bootstrap_is_the_internal_listener(
    services: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = build_settings(service, resolved_environment(services[service]), monkeypatch)
    assert settings.kafka_bootstrap_servers == KAFKA_INTERNAL
    advertised = resolved_environment(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    addresses = {listener.split("://", 1)[1] for listener in advertised.split(",")}
    assert KAFKA_INTERNAL in addresses


@pytest.mark.parametrize("service", APP_SERVICES)
def test_secrets_come_from_the_environment(services: dict[str, Any], service: str) -> None:
    env = environment(services[service])
    cls = settings_class(service)
    names = env_names(cls)
    for field_name, field in cls.model_fields.items():
        if field.annotation is SecretStr or "Secret" in str(field.annotation):
            for name in names[field_name] & set(env):
                assert re.search(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-[^}]*\}", env[name]), (
                    f"{service}: {name} must be ${{VAR:-default}}, not a value in the file"
                )
    assert "${POSTGRES_PASSWORD" in env.get(env_prefix(cls) + "DATABASE_URL", "")


def test_healthcheck_command_reaches_readyz(services: dict[str, Any]) -> None:
    """Run the app services' healthcheck (python -c ...) against a stand-in /readyz."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            seen.append(self.path)
            self.send_response(200 if self.path == "/readyz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for service in APP_SERVICES:
            test = services[service]["healthcheck"]["test"]
            assert isinstance(test, list) and test[0] == "CMD" and test[1] == "python", test
            argv = [sys.executable, *(interpolate(a) for a in test[2:])]
            prefix = env_prefix(settings_class(service))
            env = {**os.environ, "SERVICE": service, f"{prefix}HTTP_PORT": str(server.server_port)}
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, f"{service}: {done.stderr}"
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["/readyz"] * len(APP_SERVICES)


# --- infrastructure --------------------------------------------------------------------------


def test_kafka_is_a_single_kraft_node(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.1\.\d+", kafka["image"])
    env = resolved_environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_NODE_ID"]
    voters = env.get("KAFKA_CONTROLLER_QUORUM_VOTERS") or env.get(
        "KAFKA_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS"
    )
    assert voters, "a controller quorum is needed"
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in env["KAFKA_LISTENERS"]
    for setting in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
    ):
        assert env.get(setting) == "1", f"{setting} must be 1 on one node"
    test = kafka["healthcheck"]["test"]
    text = test if isinstance(test, str) else " ".join(map(str, test))
    assert "kafka-broker-api-versions.sh" in text or "kafka-topics.sh" in text


def test_postgres_creates_one_database_per_service(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    pg = services["postgres"]
    assert str(pg["image"]).startswith("postgres:16")
    mounts = [str(v) for v in pg.get("volumes") or []]
    init_mounts = [m for m in mounts if "/docker-entrypoint-initdb.d" in m]
    assert init_mounts, "the init SQL must be mounted into /docker-entrypoint-initdb.d"
    source = init_mounts[0].split(":", 1)[0]
    assert (COMPOSE_FILE.parent / source).resolve() == INIT_SQL.resolve()
    named = [m.split(":", 1)[0] for m in mounts if not m.startswith((".", "/"))]
    assert named and all(v in (compose.get("volumes") or {}) for v in named)
    test = pg["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))

    sql = re.sub(r"--[^\n]*", "", INIT_SQL.read_text())
    created = set(re.findall(r"create\s+database\s+\"?(\w+)\"?", sql, flags=re.IGNORECASE))
    assert created == set(APP_SERVICES)


def test_mailcatcher_is_mailpit(services: dict[str, Any]) -> None:
    mail = services["mailcatcher"]
    assert str(mail["image"]).startswith("axllent/mailpit")
    ports = published_ports(mail)
    assert 1025 in ports and 8025 in ports


# --- the image -------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_runs_the_named_service() -> None:
    assert DOCKERFILE.is_file()
    instructions = _dockerfile_instructions()
    froms = [rest for kw, rest in instructions if kw == "FROM"]
    assert froms and froms[-1].split()[0] == "python:3.11-slim"
    assert any(kw == "ARG" and rest.split("=")[0] == "SERVICE" for kw, rest in instructions)
    runs = [rest for kw, rest in instructions if kw in ("CMD", "ENTRYPOINT")]
    assert runs, "the Dockerfile needs a CMD or ENTRYPOINT"
    assert any("-m" in r and "services." in r and "SERVICE" in r for r in runs), runs
    users = [rest for kw, rest in instructions if kw == "USER"]
    assert users and users[-1] not in ("root", "0"), "the service must not run as root"
    exposed = {
        int(port.split("/")[0])
        for kw, rest in instructions
        if kw == "EXPOSE"
        for port in rest.split()
    }
    assert {port for _, _, port in APP_SERVICES.values()} | {INTAKE_SMTP_PORT} <= exposed
    env_text = " ".join(rest for kw, rest in instructions if kw == "ENV")
    assert "PYTHONUNBUFFERED=1" in env_text
    copied = " ".join(rest for kw, rest in instructions if kw == "COPY")
    for needed in ("pyproject.toml", "shared", "services"):
        assert needed in copied


def test_dockerignore_keeps_what_the_image_copies() -> None:
    ignore = ROOT / ".dockerignore"
    assert ignore.is_file()
    lines = [ln.strip() for ln in ignore.read_text().splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if "*" in lines:
        for needed in ("pyproject.toml", "README.md", "shared", "services"):
            assert any(ln.rstrip("/") == f"!{needed}" for ln in lines), needed
    else:
        for needed in ("pyproject.toml", "README.md", "shared", "services"):
            assert needed not in [ln.rstrip("/") for ln in lines], needed


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI on this machine")
    version = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=30
    )
    if version.returncode != 0:
        reason = f"the docker compose plugin is missing: {version.stderr.strip()}"
        print(reason)
        pytest.skip(reason)
    done = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
