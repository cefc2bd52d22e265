"""The scheduler's tables.

Shared with the timed jobs (reminders, the gas programme, missed-slot detection), which
read `appointments` and must be able to rely on these names:

- `remind_at` is when the reminder is due (UTC), set at booking and on every move;
  `reminded_at` is null until it is sent and is reset to null when the appointment moves.
- `arrived_at` is set when the contractor reports arriving; a slot that ends with it still
  null is a missed appointment (`handlers.contractor_missed`).
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from shared.db import UtcDateTime
from shared.outbox import outbox_table

metadata = MetaData()

# What each repair, inspection or visit case needs booked, one per case (the case id makes
# redelivery harmless). Contact details are personal data: stored, never logged.
bookings_to_make = Table(
    "bookings_to_make",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("reference", String(64), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("kind", String(20), nullable=True),
    Column("channel", String(20), nullable=True),
    Column("trade", String(40), nullable=True),
    Column("property_id", String(64), nullable=True),
    Column("tenancy_id", String(64), nullable=True),
    Column("contact_email", String(320), nullable=True),
    Column("contact_phone", String(40), nullable=True),
    Column("description", Text, nullable=True),
    Column("safeguarding", Boolean, nullable=True),
    Column("book_by", UtcDateTime, nullable=True),
)

blocks = Table(
    "blocks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
)

properties = Table(
    "properties",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("address", String(300), nullable=False),
    Column("postcode", String(10), nullable=False),
    Column("block_id", String(64), ForeignKey("blocks.id"), nullable=True, index=True),
    Column("has_gas", Boolean, nullable=False),
    Column("year_built", Integer, nullable=True),
)

tenancies = Table(
    "tenancies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("property_id", String(64), ForeignKey("properties.id"), nullable=False, index=True),
    Column("tenant_name", String(200), nullable=False),
    Column("mobile", String(40), nullable=True),
    Column("email", String(320), nullable=True),
    Column("preferred_channel", String(10), nullable=False),
    Column("active", Boolean, nullable=False),
)

contractors = Table(
    "contractors",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("phone", String(40), nullable=False),
    Column("trades", JSON, nullable=False),  # ["plumbing", "electrical", ...]
    Column("areas", JSON, nullable=False),  # postcode districts: ["SE15", "SE22"]
    Column("working_days", JSON, nullable=False),  # ISO weekdays 1 (Mon) .. 6 (Sat)
    Column("capacity_per_slot", Integer, nullable=False),
    Column("emergency_rota", Boolean, nullable=False),
    # SHA-256 of the contractor's API bearer token; the token itself is never stored.
    Column("token_sha256", String(64), nullable=True, unique=True),
)

# The offers last made for a case, numbered 1..3 so the tenant can reply with a digit.
offers = Table(
    "offers",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("contractor_id", String(64), ForeignKey("contractors.id"), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("made_at", UtcDateTime, nullable=False),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("reference", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("contractor_id", String(64), ForeignKey("contractors.id"), nullable=False),
    Column("property_id", String(64), nullable=True, index=True),
    Column("tenancy_id", String(64), nullable=True),
    # Which of the contractor's places in the slot this holds; null once cancelled, so the
    # place is free again. The unique constraint is what stops a double booking.
    Column("place", Integer, nullable=True),
    Column("booked_at", UtcDateTime, nullable=False),
    Column("remind_at", UtcDateTime, nullable=True, index=True),
    Column("reminded_at", UtcDateTime, nullable=True),
    Column("en_route_at", UtcDateTime, nullable=True),
    Column("arrived_at", UtcDateTime, nullable=True),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("no_access_at", UtcDateTime, nullable=True),
    Column("missed_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("fixed_first_time", Boolean, nullable=True),
    Column("high_value_or_complex", Boolean, nullable=True),
    Column("inspection_flagged", Boolean, nullable=True),
    UniqueConstraint("contractor_id", "starts_at", "place", name="uq_appointments_place"),
)
Index("ix_appointments_contractor_day", appointments.c.contractor_id, appointments.c.starts_at)
# A case has at most one appointment still to happen or under way: two concurrent
# bookings of the same case cannot both insert one (the second becomes a move).
_open_appointment = text("status IN ('booked', 'en_route', 'arrived')")
Index(
    "uq_appointments_one_open",
    appointments.c.case_id,
    unique=True,
    sqlite_where=_open_appointment,
    postgresql_where=_open_appointment,
)

works_orders = Table(
    "works_orders",
    metadata,
    Column("id", String(64), primary_key=True),  # the order number, e.g. WO-7K2M9Q
    Column("case_id", String(64), nullable=False, unique=True),
    Column("appointment_id", String(64), nullable=True),
    Column("contractor_id", String(64), ForeignKey("contractors.id"), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("trade", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
)

# One £10 credit per missed appointment: the primary key makes a second impossible.
rent_credits = Table(
    "rent_credits",
    metadata,
    Column("appointment_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("amount_pence", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("reported_by", String(40), nullable=False),
)

# Events already acted on, for handlers with no natural key of their own (tenant replies).
handled_events = Table(
    "handled_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("handled_at", UtcDateTime, nullable=False),
)

outbox = outbox_table(metadata)
