"""What staff do to a case, as the events that say so (pure)."""

from datetime import datetime
from enum import StrEnum

from shared.events.cases import (
    CaseClosed,
    CaseReplied,
    ComplaintAcknowledged,
    ComplaintResponded,
    ComplaintStage,
    ExtensionAgreed,
)
from shared.events.envelope import Event


class Action(StrEnum):
    REPLY = "reply"
    ACKNOWLEDGE = "acknowledge"
    RESPOND = "respond"
    EXTEND = "extend"
    CLOSE = "close"


class NotAllowed(ValueError):
    """The action does not fit this case (a complaint stage on a repair, say)."""


def event_for(  # noqa: PLR0913
    action: Action,
    case_id: str,
    reference: str,
    kind: str,
    at: datetime,
    stage: ComplaintStage | None = None,
    clock: str | None = None,
    new_deadline: datetime | None = None,
    reason: str | None = None,
) -> Event:
    ids = {"correlation_id": case_id, "case_id": case_id, "reference": reference}
    if action is Action.REPLY:
        return CaseReplied(replied_at=at, **ids)
    if action is Action.CLOSE:
        return CaseClosed(closed_at=at, **ids)
    if kind != "complaint":
        raise NotAllowed(f"only a complaint can be {action}d at a stage or extended")
    if action is Action.ACKNOWLEDGE:
        return ComplaintAcknowledged(stage=stage or ComplaintStage.STAGE_1, acknowledged_at=at, **ids)
    if action is Action.RESPOND:
        return ComplaintResponded(stage=stage or ComplaintStage.STAGE_1, responded_at=at, **ids)
    if not (clock and new_deadline and reason):
        raise NotAllowed("an extension needs the clock, the new deadline and the reason agreed")
    return ExtensionAgreed(clock=clock, new_deadline=new_deadline, reason=reason, agreed_at=at, **ids)
