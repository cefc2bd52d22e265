from shared.migrations_env import run_migrations
from services.scheduler.adapters.all_tables import metadata

run_migrations(metadata)
