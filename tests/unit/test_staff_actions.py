from datetime import UTC, datetime, timedelta

import pytest

from shared.events.cases import ComplaintStage
from services.intake.domain.staff_actions import Action, NotAllowed, event_for

AT = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("action", "kind", "event_type"),
    [
        (Action.REPLY, "letter", "case.replied"),
        (Action.CLOSE, "repair_request", "case.closed"),
        (Action.ACKNOWLEDGE, "complaint", "complaint.acknowledged"),
        (Action.RESPOND, "complaint", "complaint.responded"),
    ],
)
def test_each_action_says_what_was_done(action: Action, kind: str, event_type: str):
    event = event_for(action, "c1", "HX-1", kind, AT, ComplaintStage.STAGE_2)
    assert event.event_type == event_type
    assert event.key() == b"c1"


def test_complaint_actions_on_other_cases_are_refused():
    with pytest.raises(NotAllowed):
        event_for(Action.ACKNOWLEDGE, "c1", "HX-1", "repair_request", AT)


def test_an_extension_needs_its_clock_deadline_and_reason():
    with pytest.raises(NotAllowed, match="clock"):
        event_for(Action.EXTEND, "c1", "HX-1", "complaint", AT, clock="complaint_stage1_response")
    extended = event_for(
        Action.EXTEND, "c1", "HX-1", "complaint", AT,
        clock="complaint_stage1_response", new_deadline=AT + timedelta(days=14), reason="complex",
    )
    assert extended.event_type == "extension.agreed"
    assert extended.new_deadline == AT + timedelta(days=14)
