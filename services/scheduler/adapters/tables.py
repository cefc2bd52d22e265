from sqlalchemy import Column, MetaData, String, Table

from shared.db import UtcDateTime
from shared.outbox import outbox_table

metadata = MetaData()

# Repairs waiting for an appointment, one per case (the case id makes redelivery harmless).
bookings_to_make = Table(
    "bookings_to_make",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("reference", String(64), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),
)

outbox = outbox_table(metadata)
