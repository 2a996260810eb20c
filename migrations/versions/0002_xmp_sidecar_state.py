"""xmp sidecar state and catalog settings

Revision ID: 0002_xmp
Revises: 0001
Create Date: 2026-12-07 15:20:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002_xmp'
down_revision = '0001'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('xmp_sidecars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=4096), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('mtime', sa.Float(), nullable=False),
    sa.Column('last_action', sa.String(length=8), nullable=False),
    sa.Column('synced_at', sa.DateTime(), nullable=False),
    sa.Column('notes', JSON, nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_xmp_sidecars_image_id_images'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xmp_sidecars')),
    sa.UniqueConstraint('image_id', name=op.f('uq_xmp_sidecars_image_id'))
    )
    op.create_table('catalog_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', JSON, nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_catalog_settings'))
    )


def downgrade() -> None:
    op.drop_table('catalog_settings')
    op.drop_table('xmp_sidecars')
