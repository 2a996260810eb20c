"""images: IPTC title, caption, creator and copyright as columns

They were keys of ``images.extra`` (the importer's EXIF copyright/artist, XMP reads,
Lightroom migration); the upgrade moves them into the columns (an EXIF ``artist`` becomes
the creator when there is none), tidied as core.values.clean_iptc tidies text read from
files, and takes them out of ``extra``; the downgrade puts them back.

Revision ID: 0006_iptc
Revises: 0005_sort_indexes
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from maskroom.core.values import IPTC_FIELDS, clean_iptc

revision = '0006_iptc'
down_revision = '0005_sort_indexes'
branch_labels = None
depends_on = None

FIELDS = tuple(IPTC_FIELDS)  # title, caption, creator, copyright
_images = sa.table('images', sa.column('id', sa.Integer), sa.column('extra', sa.JSON().with_variant(JSONB(), 'postgresql')),
                   *(sa.column(f, sa.String) for f in FIELDS))


def upgrade() -> None:
    with op.batch_alter_table('images', schema=None) as batch_op:
        for name, length in IPTC_FIELDS.items():
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
    conn = op.get_bind()
    moves = []
    for image_id, extra in conn.execute(sa.select(_images.c.id, _images.c.extra)):
        if not isinstance(extra, dict) or not any(k in extra for k in (*FIELDS, 'artist')):
            continue
        extra = dict(extra)
        values = {f: clean_iptc(f, extra.pop(f, None)) for f in FIELDS}
        artist = clean_iptc('creator', extra.pop('artist', None))
        values['creator'] = values['creator'] or artist
        moves.append({'image_id': image_id, 'v_extra': extra, **{f'v_{f}': v for f, v in values.items()}})
    if moves:  # (bound names differ from the columns': SQLAlchemy reserves those for SET)
        conn.execute(_images.update().where(_images.c.id == sa.bindparam('image_id'))
                     .values(extra=sa.bindparam('v_extra'), **{f: sa.bindparam(f'v_{f}') for f in FIELDS}), moves)


def downgrade() -> None:
    conn = op.get_bind()
    moves = []
    for row in conn.execute(sa.select(_images.c.id, _images.c.extra, *(_images.c[f] for f in FIELDS))):
        values = {f: row._mapping[f] for f in FIELDS if row._mapping[f]}
        if values:
            moves.append({'image_id': row.id, 'v_extra': {**(row.extra or {}), **values}})
    if moves:
        conn.execute(_images.update().where(_images.c.id == sa.bindparam('image_id'))
                     .values(extra=sa.bindparam('v_extra')), moves)
    with op.batch_alter_table('images', schema=None) as batch_op:
        for name in reversed(FIELDS):
            batch_op.drop_column(name)
