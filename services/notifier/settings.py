from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import VAR_DIR, ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    http_port: int = 8083
    # Without SMTP or Twilio settings, messages of that kind are written here instead.
    outbox_dir: Path = VAR_DIR / "outbox"
    email_from: str = "Hexagon Housing <no-reply@hexagon.org.uk>"
    send_timeout_seconds: float = 15.0
    # Routine texts wait from quiet_starts to quiet_ends (London time), and all Sunday.
    quiet_hours: bool = True
    quiet_starts: time = time(20, 0)
    quiet_ends: time = time(8, 0)
    quiet_sundays: bool = True
    # Texts per second from the sender (Twilio's UK rate for an alphanumeric sender is
    # 10); per process: with several replicas, divide the sender's rate among them.
    sms_per_second: float = Field(default=10.0, gt=0)
    # Permanent failures in a row before a mobile gets no more texts (email instead).
    suppress_after_failures: int = Field(default=3, ge=1)
    # How often held messages are released and unfinished ones taken up again.
    sweep_seconds: float = Field(default=30.0, gt=0)

    smtp_host: str = ""  # empty: email goes to the outbox folder
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: Literal["auto", "always", "never"] = "auto"

    twilio_account_sid: str = ""  # empty: texts go to the outbox folder
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from: str = "Hexagon"  # an alphanumeric sender id, or a number in E.164
    twilio_base_url: str = ""  # empty: Twilio itself; set for a local stand-in
    status_callback_url: str = "http://127.0.0.1:8083/v1/twilio/status"
    inbound_sms_url: str = "http://127.0.0.1:8083/v1/twilio/inbound"  # as configured at Twilio
