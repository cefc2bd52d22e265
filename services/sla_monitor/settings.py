from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SlaMonitorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_MONITOR_", extra="ignore")

    service_name: str = "sla_monitor"
    http_port: int = 8084
    # The landlord's number of homes, for figures per 1,000 homes; 0 = not configured.
    homes: int = Field(default=0, ge=0)
