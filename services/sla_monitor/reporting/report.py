"""The report the Performance Review Group reads: one pydantic model, the same in JSON
over HTTP, in the CLI's JSON file, and behind its table and CSV."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.events.feedback import Aspect
from shared.events.sla import Obligation


class Tsm(StrEnum):
    """The regulator's Tenant Satisfaction Measures a figure matches (part in brackets)."""

    RP02_NON_EMERGENCY = "RP02(1)"  # non-emergency repairs completed within target timescale
    RP02_EMERGENCY = "RP02(2)"  # emergency repairs completed within target timescale
    BS01 = "BS01"  # gas safety checks
    CH01_STAGE_1 = "CH01(1)"  # Stage 1 complaints per 1,000 homes
    CH01_STAGE_2 = "CH01(2)"  # Stage 2 complaints per 1,000 homes
    CH02_STAGE_1 = "CH02(1)"  # Stage 1 complaints responded to within the Code's timescales
    CH02_STAGE_2 = "CH02(2)"  # Stage 2 complaints responded to within the Code's timescales
    NM01 = "NM01(1)"  # anti-social behaviour cases per 1,000 homes


class Figure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Share(Figure):
    """`count` out of `out_of`; `percent` is null when there was nothing to count."""

    count: int
    out_of: int
    percent: float | None
    tsm: Tsm | None = None


class Count(Figure):
    count: int
    per_1000_homes: float | None = Field(description="null when the number of homes is not configured")
    tsm: Tsm | None = None


class ReportPeriod(Figure):
    label: str
    kind: str
    first_day: date
    last_day: date
    starts_at: datetime
    ends_at: datetime


class Complaints(Figure):
    stage_1_received: Count
    stage_2_received: Count
    stage_1_responded_in_time: Share = Field(
        description="statutory Stage 1 responses in the period made by their deadline"
    )
    stage_2_responded_in_time: Share


class ClockFigure(Figure):
    """One clock's results in the period: stopped in time, stopped late, and breached
    in the period but still open."""

    definition: str
    name: str
    obligation: Obligation
    in_time: int
    late: int
    breached_open: int
    share_in_time: Share


class Repairs(Figure):
    completed: int = Field(description="repair jobs whose last completed visit fell in the period")
    emergency_within_target: Share
    non_emergency_within_target: Share
    fixed_first_visit: Share
    average_end_to_end_days: float | None = Field(
        description="reported to last completed visit, calendar days"
    )
    end_to_end_measured: int


class RentCredits(Figure):
    count: int
    total_pence: int


class Inspections(Figure):
    completed_jobs: int
    sample: Share
    target_percent: float
    target_met: bool | None
    high_value_or_complex_inspected: int
    passed: Share


class AspectFigure(Figure):
    aspect: Aspect
    satisfied: Share = Field(description="answers of 4 or 5 out of all answers on this aspect")


class Satisfaction(Figure):
    surveys: int
    aspects: list[AspectFigure]


class Report(Figure):
    period: ReportPeriod
    as_at: datetime
    complete: bool = Field(description="false while the period is still running")
    homes: int | None
    complaints: Complaints
    anti_social_behaviour: Count
    clocks: list[ClockFigure]
    repairs: Repairs
    gas_safety: Share = Field(description="homes with an in-date gas safety certificate at the period's end")
    rent_credits: RentCredits
    inspections: Inspections
    satisfaction: Satisfaction
