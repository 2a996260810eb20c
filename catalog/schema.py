"""The catalog's tables (SQLAlchemy 2.0 typed ORM).

Every table change needs an Alembic revision in ``migrations/versions``.  Columns
that later features may want to extend without a migration are JSON (``extra``,
``adjustments``, ``mask``) and carry a ``schema_version`` where their shape matters.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations (and SQLite batch mode) can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")

# Flags, as Lightroom's: reject, none, pick.
FLAG_REJECT, FLAG_NONE, FLAG_PICK = -1, 0, 1
COLOR_LABELS = ("red", "yellow", "green", "blue", "purple")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Folder(Base):
    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(4096), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("folders.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    images: Mapped[list[Image]] = relationship(back_populates="folder")


class ImportSession(Base):
    __tablename__ = "import_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # running | completed | interrupted | failed
    status: Mapped[str] = mapped_column(String(16), default="running")
    sources: Mapped[list] = mapped_column(JSONType, default=list)
    options: Mapped[dict] = mapped_column(JSONType, default=dict)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)

    problems: Mapped[list[ImportProblem]] = relationship(back_populates="session", cascade="all, delete-orphan")


class ImportProblem(Base):
    __tablename__ = "import_problems"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("import_sessions.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(4096))
    reason: Mapped[str] = mapped_column(Text)

    session: Mapped[ImportSession] = relationship(back_populates="problems")


class Series(Base):
    __tablename__ = "series"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # New members (import, watch folder) receive the source version's edit when set.
    auto_sync: Mapped[bool] = mapped_column(Boolean, default=False)
    source_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("edit_versions.id", ondelete="SET NULL", use_alter=True)
    )
    # What the last sync carried (sync options), reused by auto-sync.
    sync_options: Mapped[dict] = mapped_column(JSONType, default=dict)
    # True once a person merged/split it: detection must not regroup it.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)

    images: Mapped[list[Image]] = relationship(back_populates="series", foreign_keys="Image.series_id")


class Image(Base):
    __tablename__ = "images"
    id: Mapped[int] = mapped_column(primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id"), index=True)
    filename: Mapped[str] = mapped_column(String(1024), index=True)
    path: Mapped[str] = mapped_column(String(4096), unique=True)
    file_size: Mapped[int] = mapped_column(Integer)
    mtime: Mapped[float] = mapped_column(Float)
    # Fast content hash (xxh3-128 hex) of the main file: the dedupe key.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(16), index=True)
    width: Mapped[int] = mapped_column(Integer)  # as displayed, after EXIF orientation
    height: Mapped[int] = mapped_column(Integer)
    orientation: Mapped[int] = mapped_column(Integer, default=1)
    capture_time: Mapped[datetime | None] = mapped_column(DateTime)
    camera_make: Mapped[str | None] = mapped_column(String(255))
    camera_model: Mapped[str | None] = mapped_column(String(255))
    lens: Mapped[str | None] = mapped_column(String(255), index=True)
    focal_length: Mapped[float | None] = mapped_column(Float)
    aperture: Mapped[float | None] = mapped_column(Float)
    shutter: Mapped[float | None] = mapped_column(Float)  # seconds
    iso: Mapped[int | None] = mapped_column(Integer, index=True)
    exposure_bias: Mapped[float | None] = mapped_column(Float)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    gps_alt: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[int] = mapped_column(Integer, default=0)
    flag: Mapped[int] = mapped_column(Integer, default=FLAG_NONE, index=True)
    color_label: Mapped[str | None] = mapped_column(String(16), index=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    import_session_id: Mapped[int | None] = mapped_column(ForeignKey("import_sessions.id", ondelete="SET NULL"))
    missing: Mapped[bool] = mapped_column(Boolean, default=False)
    # Series detection features, computed once at import.
    phash: Mapped[str | None] = mapped_column(String(32))
    features: Mapped[bytes | None] = mapped_column(LargeBinary)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"), index=True)
    # IPTC text (metadata panel, `maskroom meta`, XMP dc:title/description/creator/rights);
    # lengths are core.values.IPTC_FIELDS, checked there.
    title: Mapped[str | None] = mapped_column(String(256))
    caption: Mapped[str | None] = mapped_column(String(2000))
    creator: Mapped[str | None] = mapped_column(String(256))
    copyright: Mapped[str | None] = mapped_column(String(512))
    # Every EXIF tag as read (for `maskroom show`), plus room for later fields.
    exif: Mapped[dict] = mapped_column(JSONType, default=dict)
    extra: Mapped[dict] = mapped_column(JSONType, default=dict)

    folder: Mapped[Folder] = relationship(back_populates="images")
    series: Mapped[Series | None] = relationship(back_populates="images", foreign_keys=[series_id])
    sidecars: Mapped[list[Sidecar]] = relationship(back_populates="image", cascade="all, delete-orphan")
    versions: Mapped[list[EditVersion]] = relationship(
        back_populates="image", cascade="all, delete-orphan", order_by="EditVersion.id"
    )
    keywords: Mapped[list[Keyword]] = relationship(secondary="image_keywords", back_populates="images")

    __table_args__ = (
        Index("ix_images_capture_camera", "capture_time", "camera_model"),
        Index("ix_images_rating_flag", "rating", "flag"),
        Index("ix_images_camera_model_make", "camera_model", "camera_make"),  # the camera filter's make look-up
        # One per sort of the grid and `ls` (catalog.queries.SORTS), holding the whole
        # key (the id is in every index): the first page of a million photos is then
        # an index walk, not a sort of every row (migration 0005).
        Index("ix_images_sort_capture", "capture_time", "filename"),
        Index("ix_images_sort_rating", "rating", "capture_time"),
        Index("ix_images_sort_camera", "camera_model", "capture_time"),
        Index("ix_images_sort_imported", "imported_at"),
        Index("ix_images_sort_size", "file_size"),
    )


class Sidecar(Base):
    """A file that belongs to an image: the JPEG of a RAW+JPEG pair, an XMP file."""

    __tablename__ = "sidecars"
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(4096), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # jpeg | xmp
    format: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    file_size: Mapped[int] = mapped_column(Integer, default=0)

    image: Mapped[Image] = relationship(back_populates="sidecars")


class Keyword(Base):
    __tablename__ = "keywords"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("keywords.id", ondelete="CASCADE"), index=True)

    parent: Mapped[Keyword | None] = relationship(remote_side="Keyword.id", back_populates="children")
    children: Mapped[list[Keyword]] = relationship(back_populates="parent", cascade="all, delete-orphan")
    images: Mapped[list[Image]] = relationship(secondary="image_keywords", back_populates="keywords")

    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_keywords_parent_name"),)


class ImageKeyword(Base):
    __tablename__ = "image_keywords"
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    keyword_id: Mapped[int] = mapped_column(ForeignKey("keywords.id", ondelete="CASCADE"), primary_key=True, index=True)


class Collection(Base):
    __tablename__ = "collections"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    # A smart collection stores a filter (the same dict `maskroom ls --filter` builds).
    smart_filter: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_collections_parent_name"),)


class CollectionImage(Base):
    __tablename__ = "collection_images"
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class EditVersion(Base):
    """An edit of an image: the master, or a virtual copy.  Owns a layer stack."""

    __tablename__ = "edit_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255), default="Master")
    is_master: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Hash of the current recipe JSON: keys the render cache.
    recipe_hash: Mapped[str | None] = mapped_column(String(64))
    # Global (non-layer) settings: crop, straighten, RAW decode options.
    settings: Mapped[dict] = mapped_column(JSONType, default=dict)
    # seq of the history step the layers currently match (undo moves it back).
    history_position: Mapped[int] = mapped_column(Integer, default=0)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    extra: Mapped[dict] = mapped_column(JSONType, default=dict)

    image: Mapped[Image] = relationship(back_populates="versions")
    layers: Mapped[list[Layer]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Layer.position"
    )


class Layer(Base):
    __tablename__ = "layers"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("edit_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 0 = the global layer
    name: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    opacity: Mapped[float] = mapped_column(Float, default=1.0)
    adjustments: Mapped[dict] = mapped_column(JSONType, default=dict)
    # MaskDefinition JSON (see maskroom.core.recipe); null for the global layer.
    mask: Mapped[dict | None] = mapped_column(JSONType)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)

    version: Mapped[EditVersion] = relationship(back_populates="layers")

    __table_args__ = (UniqueConstraint("version_id", "position", name="uq_layers_version_position"),)


class HistoryStep(Base):
    __tablename__ = "history_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("edit_versions.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(255))
    recipe: Mapped[dict] = mapped_column(JSONType)  # full Recipe JSON after the step
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("version_id", "seq", name="uq_history_steps_version_seq"),)


class Snapshot(Base):
    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("edit_versions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    recipe: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("version_id", "name", name="uq_snapshots_version_name"),)


class Preset(Base):
    __tablename__ = "presets"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # develop | export
    name: Mapped[str] = mapped_column(String(255))
    body: Mapped[dict] = mapped_column(JSONType)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "name", name="uq_presets_kind_name"),)


class MaskRaster(Base):
    """Derived state of one mask component: a cached raster, like Lightroom's MaskDigest.

    Keyed by the component's uid, the input digest (image content + upstream edit that
    the component sees) and the model version.  Throw-away: recomputed when missing.
    """

    __tablename__ = "mask_rasters"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("edit_versions.id", ondelete="CASCADE"), index=True)
    component_uid: Mapped[str] = mapped_column(String(64))
    input_digest: Mapped[str] = mapped_column(String(64))
    model_name: Mapped[str | None] = mapped_column(String(128))
    model_version: Mapped[str | None] = mapped_column(String(64))
    mask_digest: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(4096))  # relative to the cache folder
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok | empty
    score: Mapped[float | None] = mapped_column(Float)
    # The model's own confidence 0..1 where it has one, and why the result is empty or
    # doubtful ("no face found for person 2"): shown as a warning, listed by review.
    confidence: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "version_id", "component_uid", "input_digest", "model_version", name="uq_mask_rasters_key"
        ),
    )


class PreviewCacheEntry(Base):
    __tablename__ = "preview_cache"
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # thumb | preview | render
    key: Mapped[str] = mapped_column(String(128))  # content hash, or content+recipe hash
    path: Mapped[str] = mapped_column(String(4096))  # relative to the cache folder
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("image_id", "kind", "key", name="uq_preview_cache_key"),)


class ReviewItem(Base):
    """A synced mask component that a person should look at (nothing found, big jump)."""

    __tablename__ = "review_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("edit_versions.id", ondelete="CASCADE"), index=True)
    source_version_id: Mapped[int | None] = mapped_column(ForeignKey("edit_versions.id", ondelete="SET NULL"))
    layer_name: Mapped[str] = mapped_column(String(255))
    component_uid: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class XmpSidecarState(Base):
    """An image's XMP sidecar as maskroom last read or wrote it (``maskroom xmp status``
    compares the file with this: size and mtime first, the digest when they differ)."""

    __tablename__ = "xmp_sidecars"
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), unique=True)
    path: Mapped[str] = mapped_column(String(4096))
    digest: Mapped[str | None] = mapped_column(String(64))  # sha256 of the file's bytes
    size: Mapped[int] = mapped_column(Integer, default=0)
    mtime: Mapped[float] = mapped_column(Float, default=0.0)
    last_action: Mapped[str] = mapped_column(String(8))  # read | write
    synced_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # What did not map (read) or could not be projected (write), per image.
    notes: Mapped[list] = mapped_column(JSONType, default=list)


class CatalogSetting(Base):
    """A catalog-wide preference (``xmp.auto_write``...), shared by the CLI and the app."""

    __tablename__ = "catalog_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list | str | int | bool | None] = mapped_column(JSONType)
