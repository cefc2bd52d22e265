from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_", extra="ignore")

    service_name: str = "scheduler"
    http_port: int = 8082
