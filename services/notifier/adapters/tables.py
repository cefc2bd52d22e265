from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text

from shared.db import UtcDateTime
from shared.outbox import outbox_table

metadata = MetaData()

# One row per idempotency key: the same request twice sends once.
deliveries = Table(
    "deliveries",
    metadata,
    Column("idempotency_key", String(200), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("purpose", String(50), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("provider_ref", String(200), nullable=True, index=True),
    # The furthest status the provider has reported (texts), e.g. sent, delivered, failed.
    Column("provider_status", String(20), nullable=True),
    # A routine message requested in quiet hours waits until then, with its request.
    Column("not_before", UtcDateTime, nullable=True, index=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # For texts: where it went and what about, so a reply can be matched to it.
    Column("mobile", String(20), nullable=True, index=True),
    Column("reference", String(64), nullable=True),
    Column("appointment_id", String(64), nullable=True),
    Column("request", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # When the provider call began: a row left "sending" longer than the lease belongs
    # to a process that stopped mid-send, and is sent again (the duplicate window).
    Column("sending_since", UtcDateTime, nullable=True),
)

# What the notifier knows of each appointment, to drop reminders that have gone stale.
appointments = Table(
    "appointments",
    metadata,
    Column("appointment_id", String(64), primary_key=True),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("cancelled", Boolean, nullable=False),
)

# Mobiles whose owners replied STOP: nothing more is texted to them until START.
opt_outs = Table(
    "opt_outs",
    metadata,
    Column("mobile", String(20), primary_key=True),
    Column("since", UtcDateTime, nullable=False),
)

# How to reach the tenant of each case, from the latest request that said so: the notifier
# owns contact preferences, so "on the way" needs no request of its own.
contacts = Table(
    "contacts",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("email", String(320), nullable=True),
    Column("phone", String(40), nullable=True),
    Column("safeguarding", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Mobiles whose texts failed for good in a row; past the limit, suppressed until the
# tenant texts in from it.
failing_mobiles = Table(
    "failing_mobiles",
    metadata,
    Column("mobile", String(20), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("suppressed_since", UtcDateTime, nullable=True),
)

outbox = outbox_table(metadata)
