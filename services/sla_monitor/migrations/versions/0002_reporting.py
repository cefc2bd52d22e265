"""reporting facts: what the performance figures are computed from

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 08:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# table -> its indexed columns
INDEXED = {
    'report_cases_opened': ['case_id', 'received_at'],
    'report_complaint_escalations': ['case_id', 'escalated_at'],
    'report_gas_checks': ['checked_on', 'property_id'],
    'report_inspections': ['case_id', 'inspected_at'],
    'report_rent_credits': ['case_id', 'due_at'],
    'report_repair_visits': ['case_id', 'completed_at'],
    'report_survey_scores': ['answered_at', 'case_id'],
}


def _case() -> list[sa.Column]:
    return [
        sa.Column('case_id', sa.String(length=64), nullable=False),
        sa.Column('reference', sa.String(length=64), nullable=False),
    ]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('report_cases_opened',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    *_case(),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('priority', sa.String(length=40), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('report_complaint_escalations',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    *_case(),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('report_repair_visits',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    *_case(),
    sa.Column('appointment_id', sa.String(length=64), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fixed_first_time', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('report_gas_checks',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('property_id', sa.String(length=64), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('report_rent_credits',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    *_case(),
    sa.Column('appointment_id', sa.String(length=64), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('report_inspections',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    *_case(),
    sa.Column('inspected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('high_value_or_complex', sa.Boolean(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('report_survey_scores',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('aspect', sa.String(length=40), nullable=False),
    *_case(),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'aspect')
    )
    for table, columns in INDEXED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    for table, columns in INDEXED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
        op.drop_table(table)
