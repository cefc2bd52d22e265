from shared.migrations_env import run_migrations
from services.scheduler.adapters.tables import metadata

run_migrations(metadata)
