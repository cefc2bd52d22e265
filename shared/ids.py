"""Identifiers in the order they were made, to the millisecond: UUID version 7 (RFC 9562,
section 5.7), the Unix time in milliseconds followed by random bits. (Python 3.14's
`uuid.uuid7` also counts within a millisecond; nothing here needs that.)

A table keyed by them (the events a consumer has applied, cases, raw messages) takes
each new row near the end of its index. A random key (version 4) lands each row on a
page of its own, so a transaction of a thousand rows wrote about a thousand pages.
Events whose id is derived from a natural key (`stable_event_id`, version 5) are still
spread over the index.
"""

import os
import time
from uuid import UUID

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_RAND_A = 0xFFF  # 12 random bits after the version
_RAND_B = (1 << 62) - 1  # 62 random bits after the variant


def time_ordered_id() -> UUID:
    random = int.from_bytes(os.urandom(10), "big")
    millis = time.time_ns() // 1_000_000
    return UUID(int=(millis << 80) | _VERSION | ((random >> 62) & _RAND_A) << 64 | _VARIANT | (random & _RAND_B))
