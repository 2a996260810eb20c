"""lens corrections on by default for new catalogs; existing catalogs keep theirs off

Revision ID: 0007_lens_default
Revises: 0006_iptc
Create Date: 2026-12-07 19:00:00

Issue 16 asks for lens corrections "on by a default the user can change"
(catalog setting ``develop.lens_default``, default "auto": lensfun's profile for the
EXIF camera and lens).  An edit that names no lens setting follows that default, so
turning it on would change how every photo already in a catalog renders and exports.
A catalog that holds photos when it reaches this revision therefore stores "off":
its edits render as they did; the photographer turns "auto" on in the Lens
Corrections section or with ``maskroom lens-default auto``.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = '0007_lens_default'
down_revision = '0006_iptc'
branch_labels = None
depends_on = None

KEY = 'develop.lens_default'
_settings = sa.table('catalog_settings', sa.column('key', sa.String),
                     sa.column('value', sa.JSON().with_variant(JSONB(), 'postgresql')))
_images = sa.table('images', sa.column('id', sa.Integer))


def upgrade() -> None:
    conn = op.get_bind()
    has_photos = conn.execute(sa.select(_images.c.id).limit(1)).first() is not None
    chosen = conn.execute(sa.select(_settings.c.key).where(_settings.c.key == KEY)).first() is not None
    if has_photos and not chosen:
        conn.execute(_settings.insert().values(key=KEY, value='off'))


def downgrade() -> None:
    pass  # the stored choice stays valid for the code before this revision
