from pathlib import Path

from pydantic_settings import SettingsConfigDict

from shared.settings import VAR_DIR, ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    http_port: int = 8083
    # With no Twilio or SMTP credentials, every message is written here instead.
    outbox_dir: Path = VAR_DIR / "outbox"
    email_from: str = "Hexagon Housing <no-reply@hexagon.org.uk>"
