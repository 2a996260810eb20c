"""initial catalog schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 07:15:48.155216
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('collections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('smart_filter', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['collections.id'], name=op.f('fk_collections_parent_id_collections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collections')),
    sa.UniqueConstraint('parent_id', 'name', name='uq_collections_parent_name')
    )
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collections_parent_id'), ['parent_id'], unique=False)

    op.create_table('folders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=4096), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['folders.id'], name=op.f('fk_folders_parent_id_folders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_folders')),
    sa.UniqueConstraint('path', name=op.f('uq_folders_path'))
    )
    with op.batch_alter_table('folders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_folders_parent_id'), ['parent_id'], unique=False)

    op.create_table('import_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sources', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_sessions'))
    )
    op.create_table('keywords',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['keywords.id'], name=op.f('fk_keywords_parent_id_keywords'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_keywords')),
    sa.UniqueConstraint('parent_id', 'name', name='uq_keywords_parent_name')
    )
    with op.batch_alter_table('keywords', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_keywords_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_keywords_parent_id'), ['parent_id'], unique=False)

    op.create_table('presets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presets')),
    sa.UniqueConstraint('kind', 'name', name='uq_presets_kind_name')
    )
    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('auto_sync', sa.Boolean(), nullable=False),
    sa.Column('source_version_id', sa.Integer(), nullable=True),
    sa.Column('sync_options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series'))
    )
    op.create_table('images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('folder_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=1024), nullable=False),
    sa.Column('path', sa.String(length=4096), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('mtime', sa.Float(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('orientation', sa.Integer(), nullable=False),
    sa.Column('capture_time', sa.DateTime(), nullable=True),
    sa.Column('camera_make', sa.String(length=255), nullable=True),
    sa.Column('camera_model', sa.String(length=255), nullable=True),
    sa.Column('lens', sa.String(length=255), nullable=True),
    sa.Column('focal_length', sa.Float(), nullable=True),
    sa.Column('aperture', sa.Float(), nullable=True),
    sa.Column('shutter', sa.Float(), nullable=True),
    sa.Column('iso', sa.Integer(), nullable=True),
    sa.Column('exposure_bias', sa.Float(), nullable=True),
    sa.Column('gps_lat', sa.Float(), nullable=True),
    sa.Column('gps_lon', sa.Float(), nullable=True),
    sa.Column('gps_alt', sa.Float(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('flag', sa.Integer(), nullable=False),
    sa.Column('color_label', sa.String(length=16), nullable=True),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('import_session_id', sa.Integer(), nullable=True),
    sa.Column('missing', sa.Boolean(), nullable=False),
    sa.Column('phash', sa.String(length=32), nullable=True),
    sa.Column('features', sa.LargeBinary(), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('exif', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['folder_id'], ['folders.id'], name=op.f('fk_images_folder_id_folders')),
    sa.ForeignKeyConstraint(['import_session_id'], ['import_sessions.id'], name=op.f('fk_images_import_session_id_import_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_images_series_id_series'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_images')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_images_content_hash')),
    sa.UniqueConstraint('path', name=op.f('uq_images_path'))
    )
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_images_camera_model'), ['camera_model'], unique=False)
        batch_op.create_index('ix_images_capture_camera', ['capture_time', 'camera_model'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_capture_time'), ['capture_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_color_label'), ['color_label'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_filename'), ['filename'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_flag'), ['flag'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_folder_id'), ['folder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_format'), ['format'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_iso'), ['iso'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_lens'), ['lens'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_rating'), ['rating'], unique=False)
        batch_op.create_index('ix_images_rating_flag', ['rating', 'flag'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_series_id'), ['series_id'], unique=False)

    op.create_table('import_problems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=4096), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['import_sessions.id'], name=op.f('fk_import_problems_session_id_import_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_problems'))
    )
    with op.batch_alter_table('import_problems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_problems_session_id'), ['session_id'], unique=False)

    op.create_table('collection_images',
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_collection_images_collection_id_collections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_collection_images_image_id_images'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('collection_id', 'image_id', name=op.f('pk_collection_images'))
    )
    with op.batch_alter_table('collection_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_images_image_id'), ['image_id'], unique=False)

    op.create_table('edit_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('is_master', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('recipe_hash', sa.String(length=64), nullable=True),
    sa.Column('settings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('history_position', sa.Integer(), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_edit_versions_image_id_images'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edit_versions'))
    )
    with op.batch_alter_table('edit_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_edit_versions_image_id'), ['image_id'], unique=False)

    op.create_table('image_keywords',
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('keyword_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_image_keywords_image_id_images'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['keyword_id'], ['keywords.id'], name=op.f('fk_image_keywords_keyword_id_keywords'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', 'keyword_id', name=op.f('pk_image_keywords'))
    )
    with op.batch_alter_table('image_keywords', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_keywords_keyword_id'), ['keyword_id'], unique=False)

    op.create_table('preview_cache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('path', sa.String(length=4096), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_preview_cache_image_id_images'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preview_cache')),
    sa.UniqueConstraint('image_id', 'kind', 'key', name='uq_preview_cache_key')
    )
    with op.batch_alter_table('preview_cache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preview_cache_image_id'), ['image_id'], unique=False)

    op.create_table('sidecars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=4096), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_sidecars_image_id_images'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sidecars')),
    sa.UniqueConstraint('path', name=op.f('uq_sidecars_path'))
    )
    with op.batch_alter_table('sidecars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sidecars_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_sidecars_image_id'), ['image_id'], unique=False)

    op.create_table('history_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('recipe', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['edit_versions.id'], name=op.f('fk_history_steps_version_id_edit_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_history_steps')),
    sa.UniqueConstraint('version_id', 'seq', name='uq_history_steps_version_seq')
    )
    with op.batch_alter_table('history_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_history_steps_version_id'), ['version_id'], unique=False)

    op.create_table('layers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('opacity', sa.Float(), nullable=False),
    sa.Column('adjustments', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('mask', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['edit_versions.id'], name=op.f('fk_layers_version_id_edit_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_layers')),
    sa.UniqueConstraint('version_id', 'position', name='uq_layers_version_position')
    )
    with op.batch_alter_table('layers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_layers_version_id'), ['version_id'], unique=False)

    op.create_table('mask_rasters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('component_uid', sa.String(length=64), nullable=False),
    sa.Column('input_digest', sa.String(length=64), nullable=False),
    sa.Column('model_name', sa.String(length=128), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('mask_digest', sa.String(length=64), nullable=True),
    sa.Column('path', sa.String(length=4096), nullable=True),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['edit_versions.id'], name=op.f('fk_mask_rasters_version_id_edit_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mask_rasters')),
    sa.UniqueConstraint('version_id', 'component_uid', 'input_digest', 'model_version', name='uq_mask_rasters_key')
    )
    with op.batch_alter_table('mask_rasters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mask_rasters_version_id'), ['version_id'], unique=False)

    op.create_table('review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('source_version_id', sa.Integer(), nullable=True),
    sa.Column('layer_name', sa.String(length=255), nullable=False),
    sa.Column('component_uid', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['source_version_id'], ['edit_versions.id'], name=op.f('fk_review_items_source_version_id_edit_versions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['edit_versions.id'], name=op.f('fk_review_items_version_id_edit_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_items'))
    )
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_items_resolved'), ['resolved'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_items_version_id'), ['version_id'], unique=False)

    op.create_table('snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('recipe', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['edit_versions.id'], name=op.f('fk_snapshots_version_id_edit_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshots')),
    sa.UniqueConstraint('version_id', 'name', name='uq_snapshots_version_name')
    )
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshots_version_id'), ['version_id'], unique=False)
    # series <-> edit_versions reference each other: add this key once both exist.
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_series_source_version_id_edit_versions', 'edit_versions',
            ['source_version_id'], ['id'], ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_constraint('fk_series_source_version_id_edit_versions', type_='foreignkey')

    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshots_version_id'))

    op.drop_table('snapshots')
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_items_version_id'))
        batch_op.drop_index(batch_op.f('ix_review_items_resolved'))

    op.drop_table('review_items')
    with op.batch_alter_table('mask_rasters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mask_rasters_version_id'))

    op.drop_table('mask_rasters')
    with op.batch_alter_table('layers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_layers_version_id'))

    op.drop_table('layers')
    with op.batch_alter_table('history_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_history_steps_version_id'))

    op.drop_table('history_steps')
    with op.batch_alter_table('sidecars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sidecars_image_id'))
        batch_op.drop_index(batch_op.f('ix_sidecars_content_hash'))

    op.drop_table('sidecars')
    with op.batch_alter_table('preview_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preview_cache_image_id'))

    op.drop_table('preview_cache')
    with op.batch_alter_table('image_keywords', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_keywords_keyword_id'))

    op.drop_table('image_keywords')
    with op.batch_alter_table('edit_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_edit_versions_image_id'))

    op.drop_table('edit_versions')
    with op.batch_alter_table('collection_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_images_image_id'))

    op.drop_table('collection_images')
    with op.batch_alter_table('import_problems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_problems_session_id'))

    op.drop_table('import_problems')
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_images_series_id'))
        batch_op.drop_index('ix_images_rating_flag')
        batch_op.drop_index(batch_op.f('ix_images_rating'))
        batch_op.drop_index(batch_op.f('ix_images_lens'))
        batch_op.drop_index(batch_op.f('ix_images_iso'))
        batch_op.drop_index(batch_op.f('ix_images_format'))
        batch_op.drop_index(batch_op.f('ix_images_folder_id'))
        batch_op.drop_index(batch_op.f('ix_images_flag'))
        batch_op.drop_index(batch_op.f('ix_images_filename'))
        batch_op.drop_index(batch_op.f('ix_images_color_label'))
        batch_op.drop_index(batch_op.f('ix_images_capture_time'))
        batch_op.drop_index('ix_images_capture_camera')
        batch_op.drop_index(batch_op.f('ix_images_camera_model'))

    op.drop_table('images')
    op.drop_table('series')
    op.drop_table('presets')
    with op.batch_alter_table('keywords', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_keywords_parent_id'))
        batch_op.drop_index(batch_op.f('ix_keywords_name'))

    op.drop_table('keywords')
    op.drop_table('import_sessions')
    with op.batch_alter_table('folders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_folders_parent_id'))

    op.drop_table('folders')
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collections_parent_id'))

    op.drop_table('collections')

