"""What every Doorstep service is made of: its database, its broker, its outbox,
and an HTTP app with the health doors, started and stopped together."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from shared.db import make_engine, migrate, session_factory
from shared.kafka import ensure_topics, make_broker, producer_is_broken, publisher, restart_producer
from shared.outbox import Outbox
from shared.relay_lock import relay_exclusive
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


@dataclass
class Runtime:
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker
    broker: KafkaBroker
    outbox: Outbox
    migrations: Path
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)


def build_runtime(
    settings: ServiceSettings, metadata: MetaData, migrations: Path
) -> Runtime:
    engine = make_engine(settings.database())
    sessions = session_factory(engine)
    broker = make_broker(settings.kafka_bootstrap_servers, settings.service_name)
    outbox = Outbox(
        metadata.tables["outbox"],
        sessions,
        publisher(broker),
        reset_producer=lambda: restart_producer(broker),
        producer_is_broken=producer_is_broken,
        exclusive=relay_exclusive(settings.database()),
    )
    forget_start, forget_stop = every(3600, outbox.forget_published, "outbox-forget-published")
    return Runtime(settings, engine, sessions, broker, outbox, migrations, [forget_start], [forget_stop])


@asynccontextmanager
async def running(runtime: Runtime) -> AsyncIterator[None]:
    """Migrate, connect, relay, run the service's own hooks; undo all on exit."""
    await migrate(runtime.migrations, runtime.settings.database())
    await ensure_topics(runtime.settings.kafka_bootstrap_servers)
    await runtime.broker.start()
    runtime.outbox.start()
    for hook in runtime.on_start:
        await hook()
    log.info("service started", extra={"port": runtime.settings.http_port})
    try:
        yield
    finally:
        for hook in reversed(runtime.on_stop):
            await hook()
        await runtime.outbox.stop()
        await runtime.broker.stop()
        await runtime.engine.dispose()


def http_app(runtime: Runtime, title: str, description: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(runtime):
            yield

    # No OpenTelemetry provider is configured in Doorstep: FastAPI would look for one at
    # every request (the global providers, the environment).
    app = FastAPI(
        title=title, description=description, lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    app.add_exception_handler(RequestValidationError, _invalid_request)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "alive"}

    @app.get("/readyz", tags=["health"])
    async def readyz(response: Response) -> dict[str, str]:
        """Ready only when the database and the broker both answer."""
        checks = {
            "database": await _database_ok(runtime.engine),
            "broker": await _broker_ok(runtime.broker),
        }
        ready = all(v == "ok" for v in checks.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", **checks}

    @app.get("/asyncapi.json", tags=["health"])
    async def asyncapi() -> Response:
        """This service's Kafka API, generated from its subscribers and publishers."""
        spec = AsyncAPI(runtime.broker, title=title, description=description)
        return Response(spec.to_specification().to_json(), media_type="application/json")

    return app


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """422 naming each field and what is wrong with it, never echoing what was sent:
    a letter or a form may hold a tenant's name, number and story."""
    assert isinstance(error, RequestValidationError)
    problems = [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": problems})


async def _database_ok(engine: AsyncEngine) -> str:
    try:
        async with asyncio.timeout(3):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        return f"failing: {type(error).__name__}"


async def _broker_ok(broker: KafkaBroker) -> str:
    try:
        return "ok" if await broker.ping(timeout=3) else "failing: no answer"
    except Exception as error:  # noqa: BLE001
        return f"failing: {type(error).__name__}"


def serve(app: FastAPI) -> None:
    """Run one service's app until SIGINT/SIGTERM, then stop it cleanly."""
    import uvicorn

    from shared.logging import configure_logging

    settings: ServiceSettings = app.state.runtime.settings
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=10,
    )


# Allocations between young collections; Python's default is 700.
YOUNG_COLLECTION_EVERY = 50_000


def settle_the_collector() -> None:
    """Called once start-up is done. What start-up made (the app, the standards, the
    schemas) lives as long as the process: frozen out of the collector's sight, it is not
    traversed again at every full collection under load. And a service under load makes
    and drops a great many short-lived objects, few of them in cycles: at 700 allocations
    a young collection ran every few events (7% of the SLA monitor's ingest CPU). Cycles
    are still collected, about once a second under load."""
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 20, 20)


def every(seconds: float, job: Hook, name: str) -> tuple[Hook, Hook]:
    """A job run every `seconds` while the service runs: (start, stop) hooks."""
    task: list[asyncio.Task[None]] = []

    async def loop() -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception as error:  # noqa: BLE001 - try again next time
                log.warning("periodic job failed", extra={"path": name, "reason": type(error).__name__})

    async def start() -> None:
        task.append(asyncio.create_task(loop(), name=name))

    async def stop() -> None:
        for running_task in task:
            running_task.cancel()
        await asyncio.gather(*task, return_exceptions=True)

    return start, stop
