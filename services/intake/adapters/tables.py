from sqlalchemy import JSON, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text

from shared.db import UtcDateTime
from shared.outbox import outbox_table

metadata = MetaData()

raw_messages = Table(
    "raw_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("case_id", String(36), nullable=True),
    Column("message_id", String(300), nullable=True),
    Index("ix_raw_messages_message_id", "message_id", "recipient"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("reference", String(32), nullable=False, unique=True),
    Column("channel", String(20), nullable=False),
    Column("mailbox", String(20), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("priority", String(20), nullable=True),
    Column("flags", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("contact_email", String(320), nullable=True),
    Column("subject", Text, nullable=True),
    Column("body", Text, nullable=False),
)

# Web forms refused with a 4xx, kept as they arrived (the body up to the size limit) with
# why, for staff: the submission may hold a tenant's words, so it is kept here, never logged.
refused_forms = Table(
    "refused_forms",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("form", String(40), nullable=False),
    Column("status", Integer, nullable=False),
    Column("reason", String(300), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("raw", LargeBinary, nullable=False),
)

outbox = outbox_table(metadata)
