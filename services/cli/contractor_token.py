"""`doorstep contractor-token CONTRACTOR_ID`: a new bearer token for one contractor's API
use. Only its SHA-256 is stored (replacing any earlier token, which stops working); the
token itself is printed once, to hand to the contractor."""

import asyncio
import secrets
import sys


def add_arguments(commands) -> None:  # type: ignore[no-untyped-def]
    command = commands.add_parser("contractor-token", help="issue a new API token for one contractor")
    command.add_argument("contractor_id")


def main(contractor_id: str) -> int:
    from services.scheduler.settings import SchedulerSettings

    token = secrets.token_urlsafe(32)
    if not asyncio.run(_store(SchedulerSettings().database(), contractor_id, token)):
        print(f"doorstep contractor-token: no contractor '{contractor_id}' (import contractors first)", file=sys.stderr)
        return 2
    print(token)
    return 0


async def _store(database_url: str, contractor_id: str, token: str) -> bool:
    from shared.db import make_engine, migrate, session_factory
    from services.scheduler.adapters.tables import contractors
    from services.scheduler.bootstrap import MIGRATIONS
    from services.scheduler.contractor_api import token_digest

    await migrate(MIGRATIONS, database_url)
    engine = make_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            changed = await session.execute(
                contractors.update()
                .where(contractors.c.id == contractor_id)
                .values(token_sha256=token_digest(token))
            )
        return changed.rowcount == 1
    finally:
        await engine.dispose()
