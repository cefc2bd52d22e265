"""Topic names live in one class, and every one of them is used (as in GOV.UK Notify's
"every queue name is used" test)."""

import re
from pathlib import Path

import pytest

from shared.topics import CASE_KEYED, CASE_PARTITIONS, Topic, partitions_for

REPO = Path(__file__).resolve().parents[2]
TOPICS_MODULE = REPO / "shared" / "topics.py"

# Topics named in DESIGN §3 for features that have not landed yet. Each entry must be
# unused today (checked below): when a feature starts using one, delete it from here.
NOT_YET_USED = {
    "DLQ_INTAKE",  # intake consumes nothing yet (it will: notification outcomes)
}


def _source_files() -> list[Path]:
    files = [
        path
        for folder in ("shared", "services")
        for path in (REPO / folder).rglob("*.py")
        if path != TOPICS_MODULE
    ]
    assert files, "no source files found; is REPO right?"
    return files


def _topics_used() -> set[str]:
    pattern = re.compile(r"\bTopic\.([A-Z][A-Z0-9_]*)\b")
    return {name for path in _source_files() for name in pattern.findall(path.read_text())}


USED = _topics_used()


@pytest.mark.parametrize("topic", [t for t in Topic if t.name not in NOT_YET_USED], ids=lambda t: t.name)
def test_every_topic_is_used_in_the_source(topic: Topic):
    assert topic.name in USED, f"Topic.{topic.name} is named but never used"


@pytest.mark.parametrize("name", sorted(NOT_YET_USED))
def test_topics_allowed_to_be_unused_are_really_unused(name: str):
    assert name in Topic.__members__, f"NOT_YET_USED names {name}, which is not a Topic"
    assert name not in USED, f"Topic.{name} is used now: remove it from NOT_YET_USED"


def test_the_source_names_no_topic_that_does_not_exist():
    assert USED <= set(Topic.__members__)


def test_topic_names_are_unique():
    assert len({str(t) for t in Topic}) == len(Topic.__members__)


@pytest.mark.parametrize("topic", list(Topic), ids=lambda t: t.name)
def test_topic_names_are_doorstep_namespaced(topic: Topic):
    assert topic.startswith("doorstep.")
    assert re.fullmatch(r"doorstep(\.[a-z][a-z0-9-]*)+", topic)


def test_every_consuming_service_has_its_own_dead_letter_topic():
    dead_letters = {t for t in Topic if t.name.startswith("DLQ_")}
    assert {str(t) for t in dead_letters} == {
        f"doorstep.dlq.{service}" for service in ("intake", "scheduler", "notifier", "sla-monitor")
    }


def test_case_keyed_topics_share_one_partition_count():
    assert {partitions_for(t) for t in CASE_KEYED} == {CASE_PARTITIONS}
    assert {Topic.CASES, Topic.APPOINTMENTS, Topic.NOTIFICATIONS_REQUESTED, Topic.NOTIFICATIONS_OUTCOMES} <= CASE_KEYED


def test_every_topic_has_at_least_one_partition():
    assert all(partitions_for(t) >= 1 for t in Topic)
