"""Edited thumbnails: what a grid cell shows for a version whose edit is not the default.

Lightroom's grid shows each photo *as edited* and tells virtual copies apart by
their look.  Here:

* An **unedited** version (every layer an identity, no crop/straighten/RAW option)
  shows the importer's thumbnail (``engine/imageio/previews``, keyed by the photo's
  content hash): nothing is rendered.
* An **edited** version shows the develop pipeline's render of its recipe at the
  thumbnail size (256 px long edge, sRGB 8 bit), cached as a JPEG under
  ``<cache_dir>/thumbs-edited/<version id>/<key>.jpg``.  The key hashes everything
  that decides those pixels: the photo's content hash, the version id, the recipe
  digest, the code version below, the model version of every AI kind the recipe
  uses, the state of each AI component's cached raster, and the size.  Editing
  (or a sync, undo, preset...) changes the digest; a mask refresh changes the raster
  state; so the next look misses and renders again.  Each version has its own
  folder holding one file, so the master and its copies never evict each other
  (unlike ``render.render_preview_srgb``, which keeps *one* render per photo and
  size on purpose: it serves the one version open in Develop).

Source pixels: for non-RAW files the importer's 256 px thumbnail, which is the 2048 px
preview the develop render starts from, reduced (a 20x cheaper start than decoding
the preview and reducing it; the same pixels up to JPEG rounding).  RAW files use the
develop source at 256 px (a half-size linear decode), as a preview render does.

AI masks come only from the mask raster cache (``engine/masks/cache.CachedResolver``):
a thumbnail never runs a model, because a grid of 30 edited photos with Subject
masks would otherwise cost 30 model runs on the worker while the user scrolls.  A
component with no current raster renders as an empty mask (its layer does nothing
there) and the thumbnail is **provisional**: the file name says so, the grid marks
the cell, and because the raster state is part of the key the thumbnail renders
again by itself once the raster exists (opening the photo in Develop, ``maskroom
mask refresh``, or ``maskroom thumbs --edited --derive-masks`` derive them).
Range kinds (colour, luminance) are cheap and derived as in Develop, on the preview.

Speed is measured by ``python bench/thumbs.py``.
"""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select

from maskroom import __version__
from maskroom.catalog.edits import load_recipe
from maskroom.catalog.schema import EditVersion, Image, MaskRaster
from maskroom.catalog.schema import Layer as LayerRow
from maskroom.catalog.settings import get_setting
from maskroom.core.files import atomic_write_bytes, verify_image
from maskroom.core.progress import Progress
from maskroom.core.recipe import Recipe
from maskroom.engine.develop.color import srgb8_to_work
from maskroom.engine.develop.lens import LENS_DEFAULT_SETTING, correct, default_applies, lens_key, with_lens_default
from maskroom.engine.develop.pipeline import is_identity, render_recipe
from maskroom.engine.develop.render import layer_mask_fn, to_output
from maskroom.engine.develop.source import embedded_icc, is_raw, load_source, raw_options, to_srgb
from maskroom.engine.executor import Work, make_executor
from maskroom.engine.imageio.previews import JPEG_QUALITY, THUMB_SIZE, thumbnail_file
from maskroom.engine.mask_refresh import refresh_image
from maskroom.engine.masks.cache import CachedResolver, kind_version
from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.registry import MaskInput, MaskResult

# Bump when the thumbnail's pipeline changes in a way the recipe digest does not show.
THUMB_CODE_VERSION = "2"  # 2: JPEG sources get the lens corrections a render applies
EDGE = THUMB_SIZE
FOLDER = "thumbs-edited"
DEFAULT_DIGEST = Recipe().digest()

Entry = tuple[int, "int | None"]  # a grid cell: (image id, virtual copy's version id or None for the master)


def is_unedited(recipe: Recipe) -> bool:
    """True when the recipe renders the photo unchanged (every layer an identity, no
    geometry, default RAW options), e.g. a fresh import or an edit reset to zero."""
    if not all(is_identity(layer) for layer in recipe.layers):
        return False
    s = recipe.settings or {}
    if float(s.get("straighten", 0.0) or 0.0) != 0.0:
        return False
    crop = s.get("crop")
    if crop and [float(crop.get(k, d)) for k, d in (("x0", 0), ("y0", 0), ("x1", 1), ("y1", 1))] != [0, 0, 1, 1]:
        return False
    try:
        return raw_options(s) == ("camera", "clip")
    except Exception:  # an invalid RAW option: the render will say so
        return False


@dataclass(frozen=True)
class ThumbPlan:
    """What a cell shows, decided without rendering (a few indexed queries)."""

    image_id: int
    version_id: int | None  # None: the photo has no version yet (never edited)
    edited: bool
    key: str  # changes whenever the cell's pixels would: the grid's invalidation token
    content_hash: str = ""
    raster_missing: bool = False  # an AI component without a current raster: provisional

    def path(self, catalog, provisional: bool | None = None) -> Path | None:
        if not self.edited or self.version_id is None:
            return None
        prov = self.raster_missing if provisional is None else provisional
        return version_dir(catalog, self.version_id) / f"{self.key[:40]}{'-provisional' if prov else ''}.jpg"


@dataclass
class EditedThumb:
    version_id: int
    key: str
    path: Path
    provisional: bool
    rendered: bool  # False: read from the disk cache
    rgb: np.ndarray | None = None  # sRGB uint8 HxWx3 when rendered or asked for


def version_dir(catalog, version_id: int) -> Path:
    return Path(catalog.cache_dir) / FOLDER / str(int(version_id))


# -- planning ---------------------------------------------------------------------

def _chunks(seq: Sequence, n: int = 500):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _kind_versions(kinds: Iterable[str]) -> dict[str, str]:
    out = {}
    for kind in kinds:
        try:
            out[kind] = kind_version(kind)
        except KeyError:  # not registered here: the render says so
            out[kind] = "missing"
    return out


def _recipes(session, version_ids: list[int], settings: dict[int, dict]) -> dict[int, Recipe]:
    layers: dict[int, list[dict]] = {v: [] for v in version_ids}
    for chunk in _chunks(version_ids):
        for r in session.scalars(select(LayerRow).where(LayerRow.version_id.in_(chunk))
                                 .order_by(LayerRow.version_id, LayerRow.position)):
            layers[r.version_id].append({"name": r.name, "enabled": r.enabled, "opacity": r.opacity,
                                         "adjustments": r.adjustments or {}, "mask": r.mask})
    out = {}
    for v, ls in layers.items():
        try:
            out[v] = Recipe.from_dict({"layers": ls, "settings": settings.get(v) or {}})
        except Exception:  # noqa: BLE001 - left out: counted as edited, its render reports the error
            pass
    return out


def plan_thumbnails(catalog, entries: Sequence[Entry]) -> dict[Entry, ThumbPlan]:
    """Decide, for many grid cells at once, whether each shows an edit and under which key.

    ``entries`` are the grid's cells: ``(image id, None)`` for a photo (its master
    version), ``(image id, version id)`` for a virtual copy.  Unknown ids are left out.
    """
    entries = list(dict.fromkeys((int(i), None if v is None else int(v)) for i, v in entries))
    if not entries:
        return {}
    image_ids = sorted({i for i, _ in entries})
    copy_ids = sorted({v for _, v in entries if v is not None})
    with catalog.session() as s:
        hashes, lenses = {}, {}
        lens_cols = (Image.camera_make, Image.camera_model, Image.lens, Image.focal_length)
        for chunk in _chunks(image_ids):
            for iid, content, *lens in s.execute(select(Image.id, Image.content_hash, *lens_cols)
                                                 .where(Image.id.in_(chunk))):
                hashes[iid], lenses[iid] = content, lens
        lens_default = get_setting(s, LENS_DEFAULT_SETTING)
        versions: dict[int, tuple[int, str | None, dict]] = {}  # version id -> (image id, recipe hash, settings)
        master_of: dict[int, int] = {}
        cols = (EditVersion.id, EditVersion.image_id, EditVersion.recipe_hash, EditVersion.settings)
        for chunk in _chunks(image_ids):
            for vid, iid, rh, st in s.execute(select(*cols).where(
                    EditVersion.image_id.in_(chunk), EditVersion.is_master.is_(True)).order_by(EditVersion.id)):
                if iid not in master_of:  # the oldest master, as edits.get_version
                    master_of[iid] = vid
                    versions[vid] = (iid, rh, st)
        for chunk in _chunks(copy_ids):
            for vid, iid, rh, st in s.execute(select(*cols).where(EditVersion.id.in_(chunk))):
                versions[vid] = (iid, rh, st)
        # Only versions whose digest is not the fresh default can be edited: read their layers.
        maybe = [v for v, (_, rh, _) in versions.items() if rh and rh != DEFAULT_DIGEST]
        recipes = _recipes(s, maybe, {v: versions[v][2] for v in maybe})
        edited = [v for v in maybe if v not in recipes or not is_unedited(recipes[v])]
        recipes.update({v: Recipe() for v in edited if v not in recipes})  # unreadable: no AI parts to key
        rasters: dict[int, dict[str, tuple]] = {v: {} for v in edited}
        ai_versions = [v for v in edited if any(c.is_ai for _l, c in _ai_components(recipes[v]))]
        for chunk in _chunks(ai_versions):
            for row in s.scalars(select(MaskRaster).where(MaskRaster.version_id.in_(chunk))):
                rasters[row.version_id][row.component_uid] = (row.input_digest, row.model_version,
                                                              row.mask_digest or row.status)
    kinds = _kind_versions({c.kind for v in ai_versions for _l, c in _ai_components(recipes[v])})
    out: dict[Entry, ThumbPlan] = {}
    edited_set = set(edited)
    for image_id, copy_id in entries:
        if image_id not in hashes:
            continue
        vid = copy_id if copy_id is not None else master_of.get(image_id)
        if copy_id is not None and (vid not in versions or versions[vid][0] != image_id):
            continue
        content = hashes[image_id]
        rh = versions[vid][1] if vid is not None else None
        if vid not in edited_set:
            out[(image_id, copy_id)] = ThumbPlan(image_id, vid, False, f"unedited:{content}:{rh}", content)
            continue
        # The catalog's lens default decides the pixels of a recipe that names no lens
        # setting, and the recipe digest does not show it: it joins the key.
        parts = [THUMB_CODE_VERSION, __version__, content, str(vid), rh or "", str(EDGE),
                 f"lens-default:{default_applies(lens_default, versions[vid][2], *lenses[image_id])}"]
        missing = False
        for _layer, comp in _ai_components(recipes[vid]):
            state = rasters[vid].get(comp.uid)
            missing |= state is None or state[1] != kinds.get(comp.kind)
            parts.append(f"{comp.uid}:{kinds.get(comp.kind)}:{state}")
        key = hashlib.sha256("|".join(parts).encode()).hexdigest()
        out[(image_id, copy_id)] = ThumbPlan(image_id, vid, True, key, content, missing)
    return out


def _ai_components(recipe: Recipe):
    """AI components of the layers that change the render (an identity layer's masks do not matter)."""
    for layer in recipe.layers[1:]:
        if layer.mask is None or is_identity(layer):
            continue
        for comp in layer.mask.components:
            if comp.is_ai:
                yield layer, comp


# -- rendering ---------------------------------------------------------------------

class _RastersOnly:
    """A compose resolver for thumbnails: AI kinds from the raster cache only (never a
    model run; a missing raster is an empty mask and makes the thumbnail provisional),
    other kinds derived as in Develop."""

    def __init__(self, catalog, version_id: int):
        self.cached = CachedResolver(catalog, version_id)
        self.missing: list[str] = []

    def __call__(self, inp: MaskInput, comp) -> MaskResult:
        if not comp.is_ai:
            return derive(inp, comp)
        hit = self.cached.cached(inp, comp)
        if hit is None:
            self.missing.append(comp.uid)
            return MaskResult(np.zeros(inp.shape, np.float32), found=False)
        return hit


def _thumb_source(catalog, image, settings: dict) -> tuple[np.ndarray, str]:
    """Linear Rec.2020 source at the thumbnail size (not kept in the develop source cache)."""
    if is_raw(Path(image.path)):
        return load_source(catalog, image, "preview", EDGE, settings)
    px = cv2.imread(str(thumbnail_file(catalog, image)), cv2.IMREAD_COLOR)
    if px is None:
        raise OSError(f"{image.path}: cannot read its thumbnail")
    rgb = cv2.cvtColor(px, cv2.COLOR_BGR2RGB)
    lin = np.ascontiguousarray(srgb8_to_work(to_srgb(rgb, embedded_icc(Path(image.path)))), np.float32)
    # Lens corrections as the develop source applies them (load_source does for RAW):
    # lensfun's model is in frame-relative units, so it holds at 256 px too.
    lens = lens_key(with_lens_default(catalog, image, settings), image)
    if lens is not None:
        lin = correct(lin, lens, inplace=True)
    h, w = lin.shape[:2]
    return lin, hashlib.sha256(f"{image.content_hash}|thumb|{w}x{h}|{lens}".encode()).hexdigest()


def render_thumbnail(catalog, image, recipe: Recipe, version_id: int) -> tuple[np.ndarray, bool]:
    """(sRGB uint8 HxWx3 at 256 px, provisional) for a recipe on an image: the develop
    pipeline with masks from the raster cache.  Layer images are not cached in memory
    (a grid of thumbnails would evict the open photo's layers)."""
    source, digest = _thumb_source(catalog, image, recipe.settings)
    resolver = _RastersOnly(catalog, version_id)
    mask_for = layer_mask_fn(catalog, image, recipe, source, digest, resolver, memo=False)
    linear = render_recipe(source, digest, recipe, mask_for, cache=None)
    rgb, _icc = to_output(linear, "srgb", 8)
    return np.ascontiguousarray(rgb), bool(resolver.missing)


def _store(path: Path, rgb: np.ndarray) -> None:
    """Write the JPEG atomically, then drop the version's older thumbnails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise OSError(f"{path}: cannot encode JPEG")
    atomic_write_bytes(path, buf.tobytes(), verify=verify_image)
    for old in path.parent.glob("*.jpg"):
        if old.name != path.name:
            old.unlink(missing_ok=True)


def cached_thumbnail(catalog, plan: ThumbPlan) -> EditedThumb | None:
    """The edited thumbnail already on disk for this plan, without rendering."""
    if not plan.edited:
        return None
    for prov in (False, True):
        path = plan.path(catalog, prov)
        if path.exists():
            return EditedThumb(plan.version_id, plan.key, path, prov, rendered=False)
    return None


def edited_thumbnail(catalog, image_id: int, version_id: int | None = None, *, plan: ThumbPlan | None = None,
                     load: bool = False) -> EditedThumb | None:
    """The edited thumbnail of a grid cell, rendered and cached if needed; None when the
    version is unedited (the cell shows the imported thumbnail).  ``version_id`` is a
    virtual copy's id, None for the photo's master.  ``load`` also returns the pixels
    of a cached one.  The grid's worker and ``maskroom thumbs --edited`` both call this."""
    if plan is None:
        plan = plan_thumbnails(catalog, [(image_id, version_id)]).get((image_id, version_id))
        if plan is None:
            raise LookupError(f"no image {image_id}" + (f" with version {version_id}" if version_id else ""))
    if not plan.edited:
        return None
    hit = cached_thumbnail(catalog, plan)
    if hit is not None:
        if load:
            px = cv2.imread(str(hit.path), cv2.IMREAD_COLOR)
            if px is not None:
                hit.rgb = cv2.cvtColor(px, cv2.COLOR_BGR2RGB)
                return hit
        else:
            return hit
    with catalog.session() as s:
        image = s.get(Image, plan.image_id)
        recipe = load_recipe(s, plan.version_id)
        s.expunge(image)
    rgb, provisional = render_thumbnail(catalog, image, recipe, plan.version_id)
    path = plan.path(catalog, provisional)
    _store(path, rgb)
    return EditedThumb(plan.version_id, plan.key, path, provisional, rendered=True, rgb=rgb)


def render_edited_thumbnails(catalog, entries: Sequence[Entry], *, derive_masks: bool = False,
                             progress: Progress | None = None, jobs: int = 1, cluster: str | None = None):
    """Pre-render the edited thumbnails of many cells (``maskroom thumbs --edited``);
    yields one dict per cell: {image_id, version_id, status: unedited|cached|rendered|
    provisional|error, path, error}.  ``derive_masks`` first derives the missing AI
    rasters of each photo (model runs), so no thumbnail is provisional.  The cells are
    planned here in a few queries and rendered on ``jobs`` processes or a cluster."""
    progress = progress or Progress()
    entries = list(entries)
    progress.start(len(entries), "thumbnails")
    plans = plan_thumbnails(catalog, entries)
    work = Work(_thumb_item, catalog.location, _thumb_init, (derive_masks,))
    with make_executor(catalog, jobs, cluster) as executor:
        for out in executor.map(work, [(entry, plans.get(entry)) for entry in entries], progress):
            res = out.value if out.ok else {"image_id": out.item[0][0], "version_id": out.item[0][1],
                                            "status": "error", "path": None, "error": str(out.error)}
            progress.advance(1, str(res["image_id"]))
            yield res


def _thumb_init(ctx, derive_masks: bool) -> dict:
    return {"derive_masks": derive_masks, "refreshed": set()}  # photos whose rasters this worker derived


def _thumb_item(ctx, cell: tuple[Entry, ThumbPlan | None]) -> dict:
    catalog, state = ctx.catalog, ctx.state
    (image_id, copy_id), plan = cell
    res = {"image_id": image_id, "version_id": copy_id, "status": "error", "path": None}
    try:
        if plan is None:
            raise LookupError(f"no image {image_id}" + (f" with version {copy_id}" if copy_id else ""))
        res["version_id"] = plan.version_id
        if state["derive_masks"] and plan.raster_missing and image_id not in state["refreshed"]:
            refresh_image(catalog, image_id)
            state["refreshed"].add(image_id)
            plan = plan_thumbnails(catalog, [(image_id, copy_id)])[(image_id, copy_id)]
        thumb = edited_thumbnail(catalog, image_id, copy_id, plan=plan)
        if thumb is None:
            res["status"] = "unedited"
        else:
            res["path"] = str(thumb.path)
            res["status"] = "provisional" if thumb.provisional else ("rendered" if thumb.rendered else "cached")
    except Exception as exc:  # one bad photo must not stop the batch
        res["error"] = str(exc)
    return res


def prune(catalog) -> int:
    """Remove the edited thumbnails of versions that no longer exist (removed copies); returns folders removed."""
    root = Path(catalog.cache_dir) / FOLDER
    if not root.is_dir():
        return 0
    dirs = {int(p.name): p for p in root.iterdir() if p.is_dir() and p.name.isdigit()}
    with catalog.session() as s:
        alive = set()
        for chunk in _chunks(sorted(dirs)):
            alive.update(s.scalars(select(EditVersion.id).where(EditVersion.id.in_(chunk))))
    gone = [p for vid, p in dirs.items() if vid not in alive]
    for p in gone:
        shutil.rmtree(p, ignore_errors=True)
    return len(gone)
