from sqlalchemy import Column, MetaData, String, Table, Text

from shared.db import UtcDateTime
from shared.outbox import outbox_table

metadata = MetaData()

clocks = Table(
    "clocks",
    metadata,
    # standard:definition:subject — a redelivered start finds the clock already there.
    Column("id", String(200), primary_key=True),
    Column("definition", String(100), nullable=False),
    Column("standard", String(100), nullable=False),
    Column("obligation", String(20), nullable=False),
    Column("name", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("subject_type", String(20), nullable=False),
    Column("subject_id", String(36), nullable=False, index=True),
    Column("reference", String(32), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False, index=True),
    Column("state", String(20), nullable=False, index=True),
    Column("stopped_at", UtcDateTime, nullable=True),
    Column("breached_at", UtcDateTime, nullable=True),
)

outbox = outbox_table(metadata)
