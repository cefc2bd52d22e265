from shared.migrations_env import run_migrations
from services.intake.adapters.tables import metadata

run_migrations(metadata)
