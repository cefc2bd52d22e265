from datetime import time

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_", extra="ignore")

    service_name: str = "scheduler"
    http_port: int = 8082
    # Bearer tokens for the staff booking API, comma-separated. Empty: the staff API refuses all.
    staff_tokens: SecretStr = SecretStr("")
    # The London wall-clock time on the previous working day when reminders are due.
    reminder_time: time = time(18, 0)
    # The share of completed jobs sampled for post-inspection (002: at least 5%).
    inspection_share: float = Field(default=0.05, ge=0.05, le=1.0)

    def staff_token_set(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.staff_tokens.get_secret_value().split(",") if t.strip())
