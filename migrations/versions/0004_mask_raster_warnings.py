"""mask_rasters: the model's confidence and the reason a result is empty or doubtful

Revision ID: 0004_mask_warnings
Revises: 0003_scale
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_mask_warnings'
down_revision = '0003_scale'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mask_rasters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confidence', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mask_rasters', schema=None) as batch_op:
        batch_op.drop_column('reason')
        batch_op.drop_column('confidence')
