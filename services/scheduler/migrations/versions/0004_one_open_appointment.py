"""one open appointment per case: a partial unique index on appointments(case_id)

Revision ID: 0004_one_open_appointment
Revises: 0003_timed
Create Date: 2026-12-01 10:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004_one_open_appointment'
down_revision: Union[str, Sequence[str], None] = '0003_timed'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("status IN ('booked', 'en_route', 'arrived')")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        'uq_appointments_one_open',
        'appointments',
        ['case_id'],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('uq_appointments_one_open', table_name='appointments')
