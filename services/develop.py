"""Develop use cases: what the develop panel offers, rendering an edit (preview, file,
mask), originals for before/after, and grid thumbnails (``maskroom render|thumbs``
and the app's loupe, develop panel and grid)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select

from maskroom.catalog import Catalog
from maskroom.catalog.schema import EditVersion, Image
from maskroom.core.errors import InvalidValue
from maskroom.core.progress import Progress
from maskroom.core.recipe import Recipe
from maskroom.engine.develop import adjustments as adj
from maskroom.engine.develop import render, thumbnails
from maskroom.engine.export.writers import write_image
from maskroom.engine.imageio.previews import (
    derivative_path,
    load_preview,
    thumbnail_file,
)


# -- what the panel offers ------------------------------------------------------------------
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


# -- rendering ------------------------------------------------------------------------------
def _image(catalog: Catalog, image_id: int) -> Image:
    with catalog.session() as s:
        image = s.get(Image, image_id)
        if image is None:
            raise LookupError(f"no image with id {image_id}")
        s.expunge(image)
    return image


def render_preview(catalog: Catalog, version_id: int, long_edge: int | None = None,
                   recipe: Recipe | None = None) -> np.ndarray:
    """The version rendered to sRGB uint8 RGB; ``recipe`` renders an unsaved edit (a slider drag)."""
    if recipe is None:
        return render.render_preview_srgb(catalog, version_id, long_edge=long_edge)
    with catalog.session() as s:
        image = s.get(EditVersion, version_id).image
        s.expunge(image)
    result = render.render_recipe_for(catalog, image, recipe, version_id=version_id, scale="preview",
                                      long_edge=long_edge)
    rgb, _icc = render.to_output(result.linear, "srgb", 8)
    return rgb


OUTPUT_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}


def render_to_file(catalog: Catalog, version_id: int, out: Path, *, long_edge: int | None = None,
                   colorspace: str = "srgb", bits: int = 8, mask_layer: str | None = None) -> None:
    """``maskroom render``: the edit (or one layer's mask, greyscale) written to OUT."""
    fmt = OUTPUT_FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise InvalidValue(f"{out}: unknown extension (use .png, .jpg or .tif)")
    if mask_layer:
        alpha = render.mask_alpha(catalog, version_id, mask_layer, scale="full", long_edge=long_edge)
        grey = (np.clip(alpha, 0, 1) * 255 + 0.5).astype(np.uint8)
        write_image(out, np.repeat(grey[..., None], 3, axis=2), fmt, bits=8, icc=None)
    else:
        result = render.render_version(catalog, version_id, scale="full", long_edge=long_edge)
        pixels, icc = render.to_output(result.linear, colorspace, int(bits))
        write_image(out, pixels, fmt, bits=int(bits), icc=icc, quality=92)


def original_preview(catalog: Catalog, image_id: int, long_edge: int | None = None) -> np.ndarray:
    """The unedited image (the importer's cached preview, sRGB uint8), for before/after."""
    rgb = load_preview(catalog, _image(catalog, image_id))
    h, w = rgb.shape[:2]
    if long_edge and max(h, w) > long_edge:
        s = long_edge / max(h, w)
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return rgb


# -- thumbnails -------------------------------------------------------------------------------
def thumbnail_path(catalog: Catalog, image_id: int) -> Path:
    return Path(thumbnail_file(catalog, _image(catalog, image_id)))


def thumbnail_plans(catalog: Catalog, entries: Sequence[tuple[int, int | None]]) -> dict:
    """For grid cells (image id, copy version id or None): edited or not, and the key
    that changes with the cell's pixels (engine.develop.thumbnails.plan_thumbnails)."""
    return thumbnails.plan_thumbnails(catalog, entries)


def edited_thumbnail(catalog: Catalog, image_id: int, version_id: int | None = None, plan=None, load: bool = True):
    """A cell's edited thumbnail (rendered and cached on first use), None when unedited;
    the same function as ``maskroom thumbs --edited``."""
    return thumbnails.edited_thumbnail(catalog, image_id, version_id, plan=plan, load=load)


def grid_cells(catalog: Catalog, image_ids: list[int]) -> list[tuple[int, int | None]]:
    """Each photo's cell and its virtual copies' cells, in the grid's order."""
    copies: dict[int, list[int]] = {}
    with catalog.session() as s:
        for i in range(0, len(image_ids), 500):
            for image_id, vid in s.execute(
                    select(EditVersion.image_id, EditVersion.id).where(
                        EditVersion.image_id.in_(image_ids[i:i + 500]), EditVersion.is_master.is_(False))
                    .order_by(EditVersion.id)):
                copies.setdefault(image_id, []).append(vid)
    return [cell for i in image_ids for cell in [(i, None), *((i, v) for v in copies.get(i, ()))]]


def make_thumbnails(catalog: Catalog, image_ids: list[int], progress: Progress, *, edited: bool = False,
                    derive_masks: bool = False, jobs: int = 1, cluster: str | None = None) -> Iterator[dict]:
    """``maskroom thumbs``: the imported thumbnails (or, ``edited``, the edited ones the
    grid shows for every version); one result dict per cell, errors included."""
    if edited:
        cells = grid_cells(catalog, image_ids)
        yield from thumbnails.render_edited_thumbnails(catalog, cells, derive_masks=derive_masks, progress=progress,
                                                       jobs=jobs, cluster=cluster)
        return
    progress.start(len(image_ids), "thumbnails")
    for image_id in image_ids:
        res = {"image_id": image_id, "version_id": None, "status": "error", "path": None}
        try:
            image = _image(catalog, image_id)
            had = derivative_path(catalog.cache_dir, "thumb", image.content_hash).exists()
            res["path"] = str(thumbnail_file(catalog, image))
            res["status"] = "cached" if had else "made"
        except Exception as exc:  # one unreadable original must not stop the batch
            res["error"] = str(exc)
        progress.advance(1, str(image_id))
        yield res


def prune_thumbnails(catalog: Catalog) -> int:
    """Delete the thumbnails of virtual copies that are gone."""
    return thumbnails.prune(catalog)
