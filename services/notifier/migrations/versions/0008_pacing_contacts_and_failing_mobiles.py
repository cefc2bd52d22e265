"""pacing, contacts and failing mobiles

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 08:55:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'contacts',
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('phone', sa.String(length=40), nullable=True),
        sa.Column('safeguarding', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_table(
        'failing_mobiles',
        sa.Column('mobile', sa.String(length=20), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('suppressed_since', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('mobile'),
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sending_since', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('sending_since')
    op.drop_table('failing_mobiles')
    op.drop_table('contacts')
