"""The one place where the app names the services it calls.

Every function here forwards to the service the CLI uses: the importer, the library
queries and edits, the develop render, the mask engine, sync and export.  The app
adds no editing logic of its own.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select

from maskroom.catalog import Catalog
from maskroom.catalog.schema import FLAG_NONE, FLAG_PICK, FLAG_REJECT, EditVersion, Image
from maskroom.core.recipe import Recipe
from maskroom.core.progress import Progress


# -- library rows -------------------------------------------------------------
@dataclass
class ImageRow:
    """What a grid cell shows; loaded in pages, never all at once."""

    id: int
    filename: str
    rating: int
    flag: int
    color_label: str | None
    width: int
    height: int
    content_hash: str
    path: str


ROW_COLUMNS = (Image.id, Image.filename, Image.rating, Image.flag, Image.color_label,
               Image.width, Image.height, Image.content_hash, Image.path)


def image_ids(catalog: Catalog, filters: dict | None = None, sort: str | None = None) -> list[int]:
    """Ids only (cheap even for 100k rows); the grid fetches cell data per page.

    ``filters`` and ``sort`` are ``maskroom ls``'s (catalog.queries): the same dict a
    smart collection stores.
    """
    from maskroom.catalog.queries import build_query

    q = build_query(filters or {}, sort).with_only_columns(Image.id)
    with catalog.session() as s:
        return list(s.scalars(q))


def image_entries(catalog: Catalog, filters: dict | None = None,
                  sort: str | None = None) -> list[tuple[int, int | None]]:
    """The grid's cells: (image id, None) per photo, then (image id, version id) per virtual
    copy; the same list as ``maskroom ls`` (catalog.queries.list_entries)."""
    from maskroom.catalog.queries import list_entries

    with catalog.session() as s:
        return list_entries(s, filters or {}, sort)


def version_names(catalog: Catalog, version_ids: Sequence[int]) -> dict[int, str]:
    if not version_ids:
        return {}
    with catalog.session() as s:
        return dict(s.execute(select(EditVersion.id, EditVersion.name)
                              .where(EditVersion.id.in_(list(version_ids)))).all())


def image_rows(catalog: Catalog, ids: Sequence[int]) -> dict[int, ImageRow]:
    if not ids:
        return {}
    with catalog.session() as s:
        rows = s.execute(select(*ROW_COLUMNS).where(Image.id.in_(list(ids)))).all()
    return {r[0]: ImageRow(*r) for r in rows}


def image_info(catalog: Catalog, image_id: int) -> dict:
    """EXIF summary for the loupe's info overlay."""
    with catalog.session() as s:
        im = s.get(Image, image_id)
        if im is None:
            return {}
        shutter = f"1/{round(1 / im.shutter)} s" if im.shutter and im.shutter < 1 else (
            f"{im.shutter:g} s" if im.shutter else None)
        return {
            "file": im.filename, "size": f"{im.width}×{im.height}",
            "captured": im.capture_time.strftime("%Y-%m-%d %H:%M:%S") if im.capture_time else None,
            "camera": " ".join(x for x in (im.camera_make, im.camera_model) if x) or None,
            "lens": im.lens, "focal": f"{im.focal_length:g} mm" if im.focal_length else None,
            "aperture": f"f/{im.aperture:g}" if im.aperture else None, "shutter": shutter,
            "iso": f"ISO {im.iso}" if im.iso else None,
        }


# -- import -------------------------------------------------------------------
def run_import(catalog: Catalog, paths: Sequence[Path], progress: Progress, *, recursive: bool = True,
               jobs: int | None = None):
    """Import files/folders; returns (imported ids, problems as 'path: reason' lines)."""
    from maskroom.engine.importer import run_import as importer_run

    report = importer_run(catalog, [Path(p) for p in paths], recursive=recursive, jobs=jobs, progress=progress)
    return list(report.imported), [f"{path}: {reason}" for path, reason in report.skipped]


# -- ratings, flags, labels (catalog.library) -------------------------------------------
FLAG_NAMES = {FLAG_PICK: "pick", FLAG_REJECT: "reject", FLAG_NONE: "none"}


def set_rating(catalog: Catalog, ids: Iterable[int], rating: int) -> None:
    from maskroom.catalog import library

    with catalog.session() as s:
        library.set_rating(s, ids, int(rating))


def set_flag(catalog: Catalog, ids: Iterable[int], flag: int) -> None:
    from maskroom.catalog import library

    with catalog.session() as s:
        library.set_flag(s, ids, FLAG_NAMES[int(flag)])


def set_label(catalog: Catalog, ids: Iterable[int], label: str | None) -> None:
    from maskroom.catalog import library

    with catalog.session() as s:
        library.set_label(s, ids, label)


# -- keywords and collections (catalog.library, as `maskroom tag` / `collection`) ----------
def add_keywords(catalog: Catalog, ids: Iterable[int], paths: Sequence[str]) -> int:
    """Tag the photos with each keyword path ('Places|Japan'); returns new taggings."""
    from maskroom.catalog import library

    with catalog.session() as s:
        return sum(library.add_keyword(s, ids, p) for p in paths)


def remove_keyword(catalog: Catalog, ids: Iterable[int], path: str) -> int:
    from maskroom.catalog import library

    with catalog.session() as s:
        return library.remove_keyword(s, ids, path)


def keyword_counts(catalog: Catalog) -> list[tuple[str, int]]:
    from maskroom.catalog import library

    with catalog.session() as s:
        return library.keyword_counts(s)


def keywords_of(catalog: Catalog, ids: Sequence[int]) -> dict[str, int]:
    from maskroom.catalog import library

    with catalog.session() as s:
        return library.keywords_of_images(s, ids)


def collections(catalog: Catalog) -> list[dict]:
    from maskroom.catalog import library

    with catalog.session() as s:
        return library.collection_counts(s)


def create_collection(catalog: Catalog, name: str, ids: Iterable[int] = ()) -> int:
    from maskroom.catalog import library

    with catalog.session() as s:
        library.create_collection(s, name)
        return library.add_to_collection(s, name, ids) if ids else 0


def add_to_collection(catalog: Catalog, name: str, ids: Iterable[int]) -> int:
    from maskroom.catalog import library

    with catalog.session() as s:
        return library.add_to_collection(s, name, ids)


def remove_from_collection(catalog: Catalog, name: str, ids: Iterable[int]) -> int:
    from maskroom.catalog import library

    with catalog.session() as s:
        return library.remove_from_collection(s, name, ids)


def toggle_collection(catalog: Catalog, name: str, ids: Iterable[int]) -> tuple[int, int]:
    from maskroom.catalog import library

    with catalog.session() as s:
        return library.toggle_in_collection(s, name, ids)


def rename_collection(catalog: Catalog, name: str, new_name: str) -> None:
    from maskroom.catalog import library

    with catalog.session() as s:
        library.rename_collection(s, name, new_name)


def delete_collection(catalog: Catalog, name: str) -> None:
    from maskroom.catalog import library

    with catalog.session() as s:
        library.delete_collection(s, name)


def remove_virtual_copies(catalog: Catalog, version_ids: Sequence[int]) -> list[int]:
    from maskroom.catalog import library

    with catalog.session() as s:
        return library.remove_virtual_copies(s, version_ids)


# -- edits (maskroom.catalog.edits) ----------------------------------------------
def master_version_id(catalog: Catalog, image_id: int) -> int:
    from maskroom.catalog import edits

    with catalog.session() as s:
        return edits.get_version(s, image_id).id


def versions_of(catalog: Catalog, image_id: int) -> list[tuple[int, str]]:
    from maskroom.catalog import edits

    with catalog.session() as s:
        return [(v.id, v.name) for v in edits.versions_of(s, image_id)]


def image_of_version(catalog: Catalog, version_id: int) -> int:
    with catalog.session() as s:
        v = s.get(EditVersion, version_id)
        if v is None:
            raise LookupError(f"edit version {version_id} does not exist")
        return v.image_id


def load_recipe(catalog: Catalog, version_id: int) -> Recipe:
    from maskroom.catalog import edits

    with catalog.session() as s:
        return edits.load_recipe(s, version_id)


def save_recipe(catalog: Catalog, version_id: int, recipe: Recipe, label: str) -> None:
    from maskroom.catalog import edits

    with catalog.session() as s:
        edits.save_recipe(s, version_id, recipe, label)


def update_mask_component(catalog: Catalog, version_id: int, uid: str, params: dict, label: str) -> None:
    """A mask component's params changed (a handle dragged on the canvas): one history
    step, as ``maskroom mask set``."""
    from maskroom.catalog import edits

    with catalog.session() as s:
        edits.update_component(s, version_id, uid, params, label=label)


def undo(catalog: Catalog, version_id: int) -> bool:
    from maskroom.catalog import edits

    with catalog.session() as s:
        return edits.undo(s, version_id) is not None


def redo(catalog: Catalog, version_id: int) -> bool:
    from maskroom.catalog import edits

    with catalog.session() as s:
        return edits.redo(s, version_id) is not None


def history(catalog: Catalog, version_id: int) -> tuple[list[tuple[int, str]], int]:
    """(seq, label) steps and the current position."""
    from maskroom.catalog import edits

    with catalog.session() as s:
        steps = [(h.seq, h.label) for h in edits.history(s, version_id)]
        pos = s.get(EditVersion, version_id).history_position
    return steps, pos


def create_virtual_copy(catalog: Catalog, version_id: int) -> int:
    from maskroom.catalog import edits

    with catalog.session() as s:
        image_id = s.get(EditVersion, version_id).image_id
        return edits.create_virtual_copy(s, image_id, from_version_id=version_id).id


def develop_presets(catalog: Catalog) -> list[str]:
    from maskroom.catalog import edits

    with catalog.session() as s:
        return [p.name for p in edits.list_presets(s)]


def save_develop_preset(catalog: Catalog, name: str, recipe: Recipe, layer_name: str) -> None:
    from maskroom.catalog import edits

    with catalog.session() as s:
        edits.save_preset(s, name, recipe, layers=[layer_name])


def apply_develop_preset(catalog: Catalog, version_id: int, name: str) -> None:
    from maskroom.catalog import edits

    with catalog.session() as s:
        edits.apply_preset(s, version_id, name)


# -- develop adjustments ----------------------------------------------------------
@dataclass(frozen=True)
class AdjustmentSpec:
    name: str
    label: str
    minimum: float
    maximum: float
    default: float = 0.0
    step: float = 1.0
    group: str = "Basic"


GROUP_ORDER = ("tone", "color", "detail", "effects")


def adjustment_specs() -> list[AdjustmentSpec]:
    """Every adjustment the develop engine registers, with its range, in panel order."""
    from maskroom.engine.develop import adjustments as adj

    specs = []
    for name, a in adj.REGISTRY.items():
        group = a.fn.__module__.rsplit(".", 1)[-1]
        step = 0.05 if (a.hi - a.lo) <= 20 else 1.0
        specs.append(AdjustmentSpec(name, name.replace("_", " ").capitalize(), float(a.lo), float(a.hi),
                                    float(getattr(a, "neutral", 0.0)), step, group.capitalize()))
    for name, (lo, hi, _doc) in adj.PARAMETERS.items():
        group = "Color" if name.startswith("color") else "Effects"
        specs.append(AdjustmentSpec(name, name.replace("_", " ").capitalize(), float(lo), float(hi),
                                    float(lo), 1.0, group))
    rank = {g.capitalize(): i for i, g in enumerate(GROUP_ORDER)}
    specs.sort(key=lambda sp: rank.get(sp.group, 99))  # stable: registry order inside a group
    return specs


# -- rendering and masks --------------------------------------------------------------
def render_preview(catalog: Catalog, version_id: int, long_edge: int | None = None,
                   recipe: Recipe | None = None) -> np.ndarray:
    """The version rendered to sRGB uint8 RGB; ``recipe`` renders an unsaved edit (a slider drag)."""
    from maskroom.engine.develop import render

    if recipe is None:
        return render.render_preview_srgb(catalog, version_id, long_edge=long_edge)
    with catalog.session() as s:
        image = s.get(EditVersion, version_id).image
        s.expunge(image)
    result = render.render_recipe_for(catalog, image, recipe, version_id=version_id, scale="preview",
                                      long_edge=long_edge)
    rgb, _icc = render.to_output(result.linear, "srgb", 8)
    return rgb


def _image(catalog: Catalog, image_id: int) -> Image:
    with catalog.session() as s:
        image = s.get(Image, image_id)
        if image is None:
            raise LookupError(f"no image with id {image_id}")
        s.expunge(image)
    return image


def original_preview(catalog: Catalog, image_id: int, long_edge: int | None = None) -> np.ndarray:
    """The unedited image (the importer's cached preview, sRGB uint8), for before/after."""
    import cv2

    from maskroom.engine.imageio.previews import load_preview

    rgb = load_preview(catalog, _image(catalog, image_id))
    h, w = rgb.shape[:2]
    if long_edge and max(h, w) > long_edge:
        s = long_edge / max(h, w)
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return rgb


def thumbnail_path(catalog: Catalog, image_id: int) -> Path:
    from maskroom.engine.imageio.previews import thumbnail_file

    return Path(thumbnail_file(catalog, _image(catalog, image_id)))


def thumbnail_plans(catalog: Catalog, entries: Sequence[tuple[int, int | None]]) -> dict:
    """For grid cells (image id, copy version id or None): edited or not, and the key
    that changes with the cell's pixels (engine.develop.thumbnails.plan_thumbnails)."""
    from maskroom.engine.develop.thumbnails import plan_thumbnails

    return plan_thumbnails(catalog, entries)


def edited_thumbnail(catalog: Catalog, image_id: int, version_id: int | None = None, plan=None, load: bool = True):
    """A cell's edited thumbnail (rendered and cached on first use), None when unedited;
    the same function as ``maskroom thumbs --edited``."""
    from maskroom.engine.develop.thumbnails import edited_thumbnail as make

    return make(catalog, image_id, version_id, plan=plan, load=load)


def mask_alpha(catalog: Catalog, version_id: int, layer_name: str, long_edge: int | None = None) -> np.ndarray:
    """A saved layer's mask (float32 HxW 0..1) at preview size: derives AI components (slow)."""
    from maskroom.engine.develop import render

    return render.mask_alpha(catalog, version_id, layer_name, scale="preview", long_edge=long_edge)


def detect_people(catalog: Catalog, version_id: int) -> list[dict]:
    """The people in the photo, left to right: [{index, box, face_box, score}] (normalised boxes).

    Uses the same pixels the person-part masks derive from, so the indexes match.
    """
    from maskroom.engine.masks.cache import mask_input
    from maskroom.engine.masks.people import detect_people as detect

    found = detect(mask_input(catalog, image_of_version(catalog, version_id)))
    return [{"index": p.index, "box": list(p.box), "face_box": list(p.face_box) if p.face_box else None,
             "score": float(p.score)} for p in found]


def stale_component_uids(catalog: Catalog, version_id: int, recipe: Recipe) -> list[str]:
    """AI components derived before whose raster no longer matches the photo, the edit
    under them or the model (never-derived ones are not stale: the render derives them)."""
    from maskroom.catalog.schema import MaskRaster
    from maskroom.engine.masks.cache import CachedResolver, ai_components, mask_input

    comps = [c for _layer, c in ai_components(recipe)]
    if not comps:
        return []
    with catalog.session() as s:
        derived_before = set(s.scalars(select(MaskRaster.component_uid).where(
            MaskRaster.version_id == version_id, MaskRaster.component_uid.in_([c.uid for c in comps]))))
    if not derived_before:
        return []
    inp = mask_input(catalog, image_of_version(catalog, version_id))
    resolver = CachedResolver(catalog, version_id)
    return [c.uid for c in comps if c.uid in derived_before and resolver.is_stale(inp, c)]


def mask_warnings(catalog: Catalog, version_id: int) -> dict[str, str]:
    """Component uid -> why its AI mask is empty or doubtful (the cached rasters' reasons)."""
    from maskroom.catalog.schema import MaskRaster

    with catalog.session() as s:
        rows = s.execute(select(MaskRaster.component_uid, MaskRaster.reason, MaskRaster.confidence).where(
            MaskRaster.version_id == version_id, MaskRaster.reason.is_not(None)))
        return {uid: reason + ("" if conf is None else f" (confidence {conf:.2f})") for uid, reason, conf in rows}


def refresh_components(catalog: Catalog, version_id: int, recipe: Recipe, uids: Sequence[str],
                       progress: Progress) -> int:
    """Re-derive the given AI components into the raster cache (the mask refresh command's work)."""
    from maskroom.engine.masks.cache import CachedResolver, ai_components, mask_input
    from maskroom.engine.masks.compose import derive

    comps = [c for _layer, c in ai_components(recipe) if c.uid in set(uids)]
    progress.start(len(comps), "Refreshing masks")
    if not comps:
        return 0
    inp = mask_input(catalog, image_of_version(catalog, version_id))
    resolver = CachedResolver(catalog, version_id)
    for c in comps:
        if progress.cancelled():
            break
        resolver.store(inp, c, derive(inp, c))
        progress.advance(1, c.kind)
    return len(comps)


# -- sync and export ------------------------------------------------------------------------
SYNC_PARTS = (
    ("adjustments", "Global adjustments", True),
    ("masks", "Masks and their adjustments (AI masks re-derived on each photo)", True),
    ("crop", "Crop and straighten", False),
    ("raw", "RAW decoding settings", False),
)


def series_members(catalog: Catalog, image_id: int) -> list[int]:
    """The other images of the image's series (what "sync to series" targets)."""
    from maskroom.engine.sync.engine import series_targets

    return series_targets(catalog, image_id)[1]


def sync(catalog: Catalog, source_version_id: int, target_image_ids: Sequence[int], what: Sequence[str],
         mode: str, progress: Progress) -> list[dict]:
    """``maskroom sync``'s job: carry the chosen parts of the source edit to each target's
    master version, AI masks re-derived on the target.  Returns what needs a look:
    [{image_id, version_id, layer, reason, confidence}] (flags and failed targets)."""
    from maskroom.engine.sync.engine import SyncOptions, run_sync

    options = SyncOptions(what=tuple(what), mode=mode)
    report = run_sync(catalog, image_of_version(catalog, source_version_id), list(target_image_ids),
                      source_version_id=source_version_id, options=options, progress=progress)
    items = []
    for t in report.targets:
        if t.status == "failed":
            items.append({"image_id": t.image_id, "version_id": t.version_id, "layer": "",
                          "reason": f"sync failed: {t.error}", "confidence": None})
        for c in t.components:
            if c.flag:
                items.append({"image_id": t.image_id, "version_id": t.version_id, "layer": c.layer,
                              "reason": c.flag, "confidence": c.confidence})
    return items


def export_presets(catalog: Catalog) -> dict[str, dict]:
    from maskroom.engine.export import job

    with catalog.session() as s:
        return {p.name: dict(p.body or {}) for p in job.list_presets(s)}


def save_export_preset(catalog: Catalog, name: str, values: dict) -> None:
    from maskroom.engine.export import job

    with catalog.session() as s:
        job.save_preset(s, name, values)


def export(catalog: Catalog, version_ids: Sequence[int], out_dir: Path, settings, progress: Progress):
    """Export versions with ``engine.export.job`` settings; returns (written paths, 'file: reason' lines)."""
    from maskroom.engine.export import job

    report = job.run_export(catalog, list(version_ids), Path(out_dir), settings.validate(), progress=progress)
    return [Path(p) for p in report.exported], [f"{src}: {why}" for src, why in report.failed]


__all__ = [n for n in dir() if not n.startswith("_")]
