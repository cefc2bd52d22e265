from shared.migrations_env import run_migrations
from services.sla_monitor.adapters.tables import metadata

run_migrations(metadata)
