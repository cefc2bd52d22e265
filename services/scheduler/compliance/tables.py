"""The programme's tables, in the scheduler's database."""

from sqlalchemy import Column, Date, Index, Integer, String, Table, UniqueConstraint

from shared.db import UtcDateTime
from services.scheduler.adapters.tables import metadata

# Every certificate recorded: gas and electrical per property, fire risk assessments per
# block (`subject_id` is then the block id). Recording the same check twice is harmless.
certificates = Table(
    "certificates",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("subject_id", String(64), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("checked_on", Date, nullable=False),
    Column("review_on", Date, nullable=True),
    Column("due_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("subject_id", "kind", "checked_on", name="uq_certificates_check"),
)

# When each subject's next check of each kind is due: the newest certificate's rule, or
# the day the sweep first found the subject without any certificate.
checks_due = Table(
    "checks_due",
    metadata,
    Column("subject_id", String(64), primary_key=True),
    Column("kind", String(30), primary_key=True),
    Column("due_on", Date, nullable=False),
    Column("checked_on", Date, nullable=True),
)
Index("ix_checks_due_kind_due_on", checks_due.c.kind, checks_due.c.due_on)

# What the sweep has done about one check for one due date: the case that keys its
# offers, appointments and notifications.
check_progress = Table(
    "check_progress",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("subject_id", String(64), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_attempt_on", Date, nullable=True),
    Column("raised_on", Date, nullable=True),
    Column("escalated_on", Date, nullable=True),
    UniqueConstraint("subject_id", "kind", "due_on", name="uq_check_progress_due"),
)
