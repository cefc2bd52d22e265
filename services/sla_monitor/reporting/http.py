"""`GET /v1/reports/{period}`: the Performance Review Group's figures as JSON."""

from fastapi import FastAPI, HTTPException, Path

from shared.service import Runtime
from services.sla_monitor.reporting.periods import PeriodError, parse_period
from services.sla_monitor.reporting.queries import report_for
from services.sla_monitor.reporting.report import Report


def add_report_routes(app: FastAPI, runtime: Runtime) -> None:
    homes: int = getattr(runtime.settings, "homes", 0)

    @app.get("/v1/reports/{period}", tags=["reports"])
    async def report(
        period: str = Path(description="A quarter (2026Q3), a year (2026) or a financial year (2026-27)"),
    ) -> Report:
        """Performance figures for one period, with the regulator's measure codes (TSM)
        where a figure matches one. Figures are as the monitor knows them now: a late
        event can still change a past period."""
        try:
            wanted = parse_period(period)
        except PeriodError as error:
            raise HTTPException(status_code=422, detail=str(error)) from None
        async with runtime.sessions() as session:
            return await report_for(session, wanted, homes)
