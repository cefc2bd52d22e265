"""Every table of the scheduler joined to one metadata: booking's, the timed jobs' and
the safety-check programme's."""

from services.scheduler.adapters.tables import metadata
from services.scheduler.compliance import tables as compliance_tables  # noqa: F401
from services.scheduler.timed import tables as timed_tables  # noqa: F401

__all__ = ["metadata"]
