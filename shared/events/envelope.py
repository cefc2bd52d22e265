"""The envelope every Doorstep event carries at top level (DESIGN §3)."""

from datetime import UTC, datetime
from hashlib import sha1
from typing import Annotated
from uuid import UUID

from typing import ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.clock import utcnow
from shared.ids import time_ordered_id

DOORSTEP_NAMESPACE = UUID("6f1c1d8e-3b9a-4d5e-9a43-2f0b7e1c5d20")
_NAMESPACE_BYTES = DOORSTEP_NAMESPACE.bytes


def _must_be_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a UTC offset")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_must_be_aware)]

# Identifiers and references have bounded lengths, so every database stores them whole.
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Reference = Annotated[str, StringConstraints(max_length=64)]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def stable_event_id(*parts: str) -> UUID:
    """An event id derived from a natural key, so a replay emits the same id."""
    # uuid5(DOORSTEP_NAMESPACE, name), without working out the namespace's bytes each time.
    digest = sha1(_NAMESPACE_BYTES + "/".join(parts).encode(), usedforsecurity=False).digest()
    return UUID(bytes=digest[:16], version=5)


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(default_factory=time_ordered_id)
    event_type: str
    schema_version: int = 1
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    correlation_id: str

    # The field whose value is the Kafka key: the case id for everything about a
    # case, the property id for compliance, the subject for SLA events.
    key_field: ClassVar[str] = "case_id"

    def key(self) -> bytes:
        return str(getattr(self, self.key_field)).encode()
