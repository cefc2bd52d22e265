import time
from uuid import RFC_4122

from shared.events import utcnow
from shared.events.cases import CaseReplied
from shared.ids import time_ordered_id


def test_an_id_is_a_version_7_uuid_of_rfc_9562():
    made = time_ordered_id()
    assert made.version == 7
    assert made.variant == RFC_4122


def test_an_id_begins_with_the_unix_time_in_milliseconds_it_was_made_at():
    before = time.time_ns() // 1_000_000
    made = time_ordered_id()
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_ids_made_in_later_milliseconds_sort_after_as_text_and_as_uuids():
    made = []
    for _ in range(5):
        made.append(time_ordered_id())
        time.sleep(0.002)
    assert made == sorted(made)
    assert [str(i) for i in made] == sorted(str(i) for i in made)


def test_ids_made_together_differ_in_their_random_bits():
    made = [time_ordered_id() for _ in range(20_000)]
    assert len(set(made)) == len(made)
    assert len({i.int & ((1 << 62) - 1) for i in made}) == len(made)


def test_events_are_given_time_ordered_ids():
    event = CaseReplied(case_id="c-1", reference="DS-000001", correlation_id="c-1", replied_at=utcnow())
    assert event.event_id.version == 7

