"""Every Kafka topic Doorstep uses, named in one place."""

from enum import StrEnum


class Topic(StrEnum):
    CASES = "doorstep.cases"
    APPOINTMENTS = "doorstep.appointments"
    COMPLIANCE = "doorstep.compliance"
    NOTIFICATIONS_REQUESTED = "doorstep.notifications.requested"
    NOTIFICATIONS_OUTCOMES = "doorstep.notifications.outcomes"
    SLA_WARNINGS = "doorstep.sla.warnings"
    SLA_BREACHES = "doorstep.sla.breaches"
    SLA_OUTCOMES = "doorstep.sla.outcomes"
    FINANCE_RENT_CREDITS = "doorstep.finance.rent-credits"
    DLQ_INTAKE = "doorstep.dlq.intake"
    DLQ_SCHEDULER = "doorstep.dlq.scheduler"
    DLQ_NOTIFIER = "doorstep.dlq.notifier"
    DLQ_SLA_MONITOR = "doorstep.dlq.sla-monitor"


# Topics keyed by case id share one partition count so that one consumer sees
# every event of a case (co-partitioning).
CASE_PARTITIONS = 6
CASE_KEYED = frozenset(
    {
        Topic.CASES,
        Topic.APPOINTMENTS,
        Topic.NOTIFICATIONS_REQUESTED,
        Topic.NOTIFICATIONS_OUTCOMES,
    }
)


def partitions_for(topic: Topic) -> int:
    return CASE_PARTITIONS if topic in CASE_KEYED else 3
