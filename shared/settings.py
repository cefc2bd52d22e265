"""Settings, read once at start-up from the environment, one prefix per service.

Each service reads `<PREFIX>_*` variables (`INTAKE_HTTP_PORT`, `NOTIFIER_DATABASE_URL`,
...). The broker address may also be given once for all as `KAFKA_BOOTSTRAP_SERVERS`.
"""

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class ServiceSettings(BaseSettings):
    """What every service reads. Subclasses set the prefix and the defaults."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "doorstep"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    kafka_bootstrap_servers: str = ""
    # May hold a password: kept out of reprs and logs. Empty means a SQLite file under var/.
    database_url: SecretStr = SecretStr("")
    log_level: str = "INFO"
    handler_attempts: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="before")
    @classmethod
    def _shared_defaults(cls, values: dict[str, Any]) -> dict[str, Any]:
        values.setdefault(
            "kafka_bootstrap_servers",
            os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        )
        return values

    def database(self) -> str:
        """The database URL to connect to."""
        url = self.database_url.get_secret_value()
        return url or f"sqlite+aiosqlite:///{VAR_DIR / (self.service_name + '.db')}"
