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
    # The London wall-clock time on the previous working day when reminders are due. The
    # standard is kept by the end of that working day (17:00): a later time is always late.
    reminder_time: time = time(16, 0)
    # The share of completed jobs sampled for post-inspection (002: at least 5%).
    inspection_share: float = Field(default=0.05, ge=0.05, le=1.0)

    # -- timed jobs -----------------------------------------------------------------
    timed_jobs: bool = True
    # The replica holding the lease runs the timed jobs; another takes over once it has
    # gone unrenewed for `leader_lease_seconds`.
    leader_lease_seconds: float = Field(default=30, gt=0)
    leader_renew_seconds: float = Field(default=10, gt=0)
    reminder_check_seconds: float = Field(default=60, gt=0)
    # A slot that ended this long ago with no arrival is a missed appointment.
    missed_check_seconds: float = Field(default=300, gt=0)
    missed_after_minutes: int = Field(default=30, ge=0)

    # -- the safety-check programme --------------------------------------------------
    # The daily sweep, London time; a non-zero `compliance_sweep_seconds` runs it at that
    # interval instead (for trials and tests).
    compliance_sweep_at: time = time(6, 0)
    compliance_sweep_seconds: float = Field(default=0, ge=0)
    # An offer with no booking after this many days is chased with the next one.
    gas_chase_after_days: int = Field(default=14, ge=1)
    # The appointment offered is this many working days after the offer.
    gas_offer_lead_working_days: int = Field(default=10, ge=1)
    gas_booking_link: str = "https://www.hexagon.org.uk/gas-check"
    electrical_notice_months: int = Field(default=3, ge=0)
    fire_risk_notice_months: int = Field(default=1, ge=0)

    def staff_token_set(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.staff_tokens.get_secret_value().split(",") if t.strip())
