from sqlalchemy import JSON, Column, Index, Integer, MetaData, String, Table, Text

from shared.db import UtcDateTime
from shared.outbox import outbox_table

metadata = MetaData()

clocks = Table(
    "clocks",
    metadata,
    # pack:definition:subject[:instance] — a redelivered start finds the clock already there.
    Column("id", String(300), primary_key=True),
    Column("definition", String(100), nullable=False),
    Column("standard", String(100), nullable=False),
    Column("obligation", String(20), nullable=False),
    Column("name", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("subject_type", String(20), nullable=False),
    Column("subject_id", String(64), nullable=False, index=True),
    Column("reference", String(64), nullable=False),
    Column("instance", String(100), nullable=False, server_default=""),
    Column("unit", String(40), nullable=False, server_default="working_days"),
    Column("started_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("state", String(20), nullable=False),
    Column("warning_fractions", JSON, nullable=False, server_default="[]"),
    Column("warnings", JSON, nullable=False, server_default="[]"),
    Column("stopped_at", UtcDateTime, nullable=True),
    Column("breached_at", UtcDateTime, nullable=True),
    Column("paused_at", UtcDateTime, nullable=True),
    Column("extended_from", UtcDateTime, nullable=True),
    # Which instance of the monitor watches the clock: the one that owns this partition.
    Column("topic", String(200), nullable=False, server_default=""),
    Column("partition", Integer, nullable=False, server_default="0"),
    # The next warning or the deadline, while running; what the timer waits for.
    Column("next_alert_at", UtcDateTime, nullable=True),
    Index("ix_clocks_owner_alert", "topic", "partition", "next_alert_at"),
)

# Events already applied, so a redelivered pause or resume is not applied twice.
processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False, index=True),
)

outbox = outbox_table(metadata)

# The reporting facts live on this metadata too (their own module and migration).
from services.sla_monitor.reporting import facts as _reporting_facts  # noqa: E402,F401
