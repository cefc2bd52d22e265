"""What the safety-check programme publishes (through the outbox), for the AsyncAPI document."""

from faststream.kafka import KafkaBroker

from shared.events.compliance import (
    CertificateRecorded,
    GasCheckEscalated,
    GasCheckOffered,
    SafetyCheckDue,
    SafetyCheckOverdue,
)
from shared.kafka import declare_publications
from shared.topics import Topic


def declare(broker: KafkaBroker) -> None:
    declare_publications(
        broker,
        {
            Topic.COMPLIANCE: CertificateRecorded
            | GasCheckOffered
            | GasCheckEscalated
            | SafetyCheckDue
            | SafetyCheckOverdue
        },
    )
