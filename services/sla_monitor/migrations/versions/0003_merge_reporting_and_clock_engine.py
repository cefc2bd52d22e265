"""merge the reporting tables and the clock engine

Revision ID: 0003
Revises: 0002, 0002c
"""

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = ("0002", "0002c")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
