"""Migration from Lightroom Classic and darktable: their catalogs read read-only,
photos imported (or found, when already catalogued), then ratings, flags, labels,
keywords, collections, virtual copies, capture times and edits put on them.

Re-runnable: a photo already in the catalog is found by its path, keywords and
collection memberships are added only once, a virtual copy is found by its name.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from maskroom.catalog import Catalog, edits
from maskroom.catalog.schema import Collection, CollectionImage, EditVersion, Image
from maskroom.core.progress import Progress
from maskroom.core.recipe import Recipe
from maskroom.engine.importer import run_import
from maskroom.engine.migrate import MigrateError
from maskroom.engine.migrate.darktable import read_library
from maskroom.engine.migrate.lightroom import LrImage, read_lrcat
from maskroom.engine.xmp import XmpRead, maskroom_recipe
from maskroom.engine.xmp.apply import apply_read
from maskroom.engine.xmp.crs import recipe_from_crs
from maskroom.engine.xmp.fields import NS, XmpFields
from maskroom.engine.xmp.read import XmpError, parse_bytes, properties

__all__ = ["MigrateError", "MigrateSummary", "lightroom", "darktable", "parse_maps"]


@dataclass
class MigrateSummary:
    source: str
    dry_run: bool
    photos: int = 0  # master photos in the source catalog
    missing: list[str] = field(default_factory=list)  # files not found on disk (after --map)
    imported: int = 0
    already: int = 0  # in this catalog before
    virtual_copies: int = 0
    keywords: int = 0  # keyword assignments
    collections: int = 0  # collections and sets made or found
    edits: int = 0  # photos (and copies) whose edit came over
    film_rolls: int = 0
    histories_kept: int = 0  # darktable history stacks kept verbatim
    unmapped: dict[str, list[str]] = field(default_factory=dict)  # path -> what did not come over
    skipped: list[str] = field(default_factory=list)  # catalog-wide things not taken
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def parse_maps(items) -> list[tuple[str, str]]:
    out = []
    for item in items or ():
        if "=" not in item:
            raise MigrateError(f"--map {item!r}: use OLD=NEW (for example D:/Photos=/mnt/photos)")
        old, new = item.split("=", 1)
        if not old or not new:
            raise MigrateError(f"--map {item!r}: both sides need a path")
        out.append((old, new))
    return out


def _import(catalog: Catalog, paths: list[str], summary: MigrateSummary, progress: Progress,
            jobs: int | None) -> dict[str, int]:
    """Catalogue the files (those already in it are found by path); path -> image id."""
    with catalog.session() as s:
        known = dict(s.execute(select(Image.path, Image.id).where(Image.path.in_(paths))).all()) if paths else {}
    summary.already = len(known)
    todo = [p for p in paths if p not in known]
    if todo:
        report = run_import(catalog, todo, jobs=jobs, progress=progress)
        summary.imported = len(report.imported)
        summary.warnings += report.warnings + [f"{p}: {r}" for p, r in report.skipped]
    with catalog.session() as s:
        found = {}
        for n in range(0, len(paths), 5000):
            chunk = paths[n:n + 5000]
            found.update(s.execute(select(Image.path, Image.id).where(Image.path.in_(chunk))).all())
    return found


def _collection(session, path: str) -> Collection:
    parent = None
    for name in path.split("|"):
        cond = Collection.parent_id.is_(None) if parent is None else Collection.parent_id == parent.id
        c = session.scalar(select(Collection).where(Collection.name == name, cond))
        if c is None:
            c = Collection(name=name, parent_id=parent.id if parent else None)
            session.add(c)
            session.flush()
        parent = c
    return parent


def _add_to_collection(session, path: str, image_id: int) -> None:
    c = _collection(session, path)
    if session.get(CollectionImage, (c.id, image_id)) is None:
        n = session.query(CollectionImage).filter(CollectionImage.collection_id == c.id).count()
        session.add(CollectionImage(collection_id=c.id, image_id=image_id, position=n))


def _lr_recipe(rec: LrImage, width: int, height: int, summary: MigrateSummary) -> tuple[Recipe | None, list[str]]:
    """The image's edit from the XMP Lightroom keeps for it, else from the develop
    settings table's top-level sliders (its curves and local corrections are listed)."""
    props: dict = {}
    if rec.xmp:
        try:
            props = properties(parse_bytes(rec.xmp.encode("utf-8"), f"{rec.path} (Lightroom catalog XMP)"))
            recipe = maskroom_recipe(props, rec.path)
            if recipe is not None:
                return recipe, []
        except XmpError as exc:
            summary.warnings.append(str(exc))
            props = {}
    extra: list[str] = []
    if not any(k.startswith(f"{{{NS['crs']}}}") for k in props) and rec.develop:
        props = {**props, **{f"{{{NS['crs']}}}{k}": v for k, v in rec.develop.items()}}
        extra = [f"crs:{k} (in Lightroom's develop settings table only)" for k in rec.develop_nested]
    if not props:
        return None, []
    recipe, unmapped, warnings = recipe_from_crs(props, f"{rec.path} (Lightroom catalog)", width, height)
    summary.warnings += warnings
    return recipe, unmapped + extra


def _when(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def lightroom(catalog: Catalog, lrcat: Path, *, dry_run: bool = False, maps=None, jobs: int | None = None,
              progress: Progress | None = None) -> MigrateSummary:
    progress = progress or Progress()
    cat = read_lrcat(Path(lrcat), parse_maps(maps) if not isinstance(maps, list) else maps)
    summary = MigrateSummary(str(lrcat), dry_run, skipped=list(cat.skipped))
    masters = [r for r in cat.images if r.master is None]
    copies = [r for r in cat.images if r.master is not None]
    summary.photos = len(masters)
    present = [r.path for r in masters if Path(r.path).is_file()]
    summary.missing = [r.path for r in masters if not Path(r.path).is_file()]
    summary.collections = len(cat.collections)
    if dry_run:
        ok = set(present)
        summary.virtual_copies = sum(1 for r in copies if any(m.id == r.master and m.path in ok for m in masters))
        summary.keywords = sum(len(r.keywords) for r in masters if r.path in ok)
        summary.edits = sum(1 for r in cat.images if r.xmp)
        return summary
    ids = _import(catalog, present, summary, progress, jobs)
    by_lr = {r.id: ids.get(r.path) for r in masters}
    progress.start(len(cat.images), "Lightroom settings")
    for rec in masters + copies:
        image_id = by_lr.get(rec.master if rec.master is not None else rec.id)
        progress.advance(1, rec.path)
        if image_id is None:
            continue
        with catalog.session() as s:
            img = s.get(Image, image_id)
            recipe, unmapped = _lr_recipe(rec, img.width, img.height, summary)
            if rec.label_raw and rec.label is None:
                unmapped.append(f"colour label {rec.label_raw!r} (not one of maskroom's five)")
            if unmapped:
                summary.unmapped[rec.path + (f" [{rec.copy_name}]" if rec.copy_name else "")] = unmapped
            if rec.master is None:
                xr = XmpRead(fields=XmpFields(rating=rec.rating, flag=rec.flag, label=rec.label,
                                              keywords=rec.keywords, caption=rec.caption, copyright=rec.copyright,
                                              capture_time=_when(rec.capture_time)),
                             recipe=recipe.to_dict() if recipe else None, unmapped=unmapped, source=cat.path)
                apply_read(s, img, xr, label="Lightroom Classic")
                summary.keywords += len(rec.keywords)
                for path in rec.collections:
                    _add_to_collection(s, path, image_id)
            else:
                name = rec.copy_name or f"Lightroom copy {rec.id}"
                version = s.scalar(select(EditVersion).where(EditVersion.image_id == image_id,
                                                             EditVersion.name == name))
                if version is None:
                    version = edits.create_virtual_copy(s, image_id, name)
                summary.virtual_copies += 1
                if recipe is not None and recipe.digest() != edits.load_recipe(s, version.id).digest():
                    edits.save_recipe(s, version.id, recipe, "Lightroom Classic")
            if recipe is not None:
                summary.edits += 1
    return summary


def darktable(catalog: Catalog, library_db: Path, *, dry_run: bool = False, maps=None, jobs: int | None = None,
              progress: Progress | None = None) -> MigrateSummary:
    progress = progress or Progress()
    lib = read_library(Path(library_db), parse_maps(maps) if not isinstance(maps, list) else maps)
    summary = MigrateSummary(str(library_db), dry_run, skipped=list(lib.skipped), film_rolls=len(lib.film_rolls))
    summary.photos = len(lib.images)
    present = [r.path for r in lib.images if Path(r.path).is_file()]
    summary.missing = [r.path for r in lib.images if not Path(r.path).is_file()]
    auto = sum(r.auto_tags for r in lib.images)
    if auto:
        summary.skipped.append(f"{auto} automatic darktable|... tag assignment(s) (darktable makes them itself)")
    if dry_run:
        ok = set(present)
        summary.keywords = sum(len(r.keywords) for r in lib.images if r.path in ok)
        summary.histories_kept = sum(1 for r in lib.images if r.history and r.path in ok)
        return summary
    ids = _import(catalog, present, summary, progress, jobs)
    progress.start(len(lib.images), "darktable settings")
    for rec in lib.images:
        progress.advance(1, rec.path)
        image_id = ids.get(rec.path)
        if image_id is None:
            continue
        unmapped = [f"colour label {x} (maskroom keeps one label)" for x in rec.labels[1:]]
        if rec.history:
            unmapped.append(f"darktable history ({len(rec.history)} step(s)) kept verbatim, not applied")
        with catalog.session() as s:
            img = s.get(Image, image_id)
            xr = XmpRead(fields=XmpFields(rating=rec.rating, flag=rec.flag, label=rec.labels[0] if rec.labels else None,
                                          keywords=rec.keywords, capture_time=_when(rec.capture_time)),
                         unmapped=unmapped, source=lib.path)
            apply_read(s, img, xr, label="darktable")
            summary.keywords += len(rec.keywords)
            if rec.history:
                version = edits.get_version(s, image_id)
                version.extra = {**(version.extra or {}),
                                 "darktable_history": {"steps": rec.history, "history_end": rec.history_end}}
                summary.histories_kept += 1
        if unmapped:
            summary.unmapped[rec.path] = unmapped
    return summary

