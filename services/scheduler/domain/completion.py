"""After a job: is it sampled for post-inspection (pure)?

002: "a sample of at least 5% of completed jobs, and every high-value or complex job".
The draw is derived from the appointment id, so it is random across jobs but the same
answer every time one job is handled again.
"""

import hashlib

INSPECTION_SHARE = 0.05


def sample_draw(appointment_id: str) -> float:
    """A number in [0, 1), uniform over appointment ids."""
    digest = hashlib.sha256(appointment_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def needs_post_inspection(
    appointment_id: str, high_value_or_complex: bool, share: float = INSPECTION_SHARE
) -> bool:
    return high_value_or_complex or sample_draw(appointment_id) < share
