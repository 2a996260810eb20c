"""Mask use cases: listing a version's masks with their raster state, rendering a
layer's mask, deriving and refreshing AI masks, the people in a photo, measuring a
kind on pairs (``maskroom mask list|render|refresh`` and the app's
masks panel).  Adding, moving and removing components is an edit: services.editing."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select

from maskroom.catalog import Catalog
from maskroom.catalog.schema import MaskRaster
from maskroom.core.errors import InvalidValue
from maskroom.core.files import atomic_path, verify_image
from maskroom.core.progress import Progress
from maskroom.core.recipe import MaskComponent, Recipe
from maskroom.engine.develop import render
from maskroom.engine.mask_refresh import ai_components, mask_input, refresh_images
from maskroom.engine.masks.cache import CachedResolver
from maskroom.engine.masks.compose import compose, derive
from maskroom.engine.masks.overlay import overlay
from maskroom.engine.masks.people import detect_people as _detect_people
from maskroom.engine.masks.registry import available_kinds
from maskroom.engine.sync import review
from maskroom.services.editing import add_mask_component, image_of_version, load_recipe

MaskWarning = tuple[str, str, "float | None", str]  # (component uid, kind, confidence, reason)


def check_person(catalog: Catalog, version_id: int, person: int) -> str | None:
    """Refuse a person number beyond the people found (0-based, left to right); returns a
    warning when the people cannot be counted (no pixels or no model: the render says so)."""
    recipe = load_recipe(catalog, version_id)
    image_id = image_of_version(catalog, version_id)
    try:
        found = len(_detect_people(mask_input(catalog, image_id, settings=recipe.settings)))
    except Exception as exc:  # noqa: BLE001  (counting is a courtesy; deriving reports the real failure)
        return f"cannot count people to check person {person} ({exc})"
    if person >= found:
        raise InvalidValue(f"--person {person}: image {image_id} has {found} {'person' if found == 1 else 'people'} "
                           f"(numbered 0..{found - 1}, left to right)" if found
                           else f"--person {person}: image {image_id} has no people")
    return None


def add_component(catalog: Catalog, version_id: int, comp: MaskComponent, layer_name: str | None = None
                  ) -> tuple[str, list[str], list[MaskWarning]]:
    """Add a mask component to a layer after checking its person reference against the
    photo; an AI component is derived at once so an empty or doubtful result is said
    now.  Returns (layer name, lines about the check, mask warnings)."""
    comp.validate()
    notes = []
    if comp.params.get("person") is not None:
        w = check_person(catalog, version_id, int(comp.params["person"]))
        notes += [w] if w else []
    name = add_mask_component(catalog, version_id, comp, layer_name)
    warnings: list[MaskWarning] = []
    if comp.is_ai:
        try:
            warnings = derive_with_warnings(catalog, version_id, name, [comp])
        except Exception as exc:  # noqa: BLE001  (the edit is stored; the render will derive and say why)
            notes.append(f"mask not derived yet: {exc}")
    return name, notes, warnings


def derive_with_warnings(catalog: Catalog, version_id: int, layer_name: str, comps: Sequence[MaskComponent]
                         ) -> list[MaskWarning]:
    """Derive ``comps`` of a layer at the preview size through the raster cache; record
    their warnings for `maskroom review` and return them as (uid, kind, confidence, reason)."""
    recipe = load_recipe(catalog, version_id)
    inp = mask_input(catalog, image_of_version(catalog, version_id), settings=recipe.settings)
    resolver = CachedResolver(catalog, version_id)
    for comp in comps:
        resolver(inp, comp)
    review.record_mask_warnings(catalog, version_id, layer_name, {c.uid for c in comps}, resolver.warnings)
    return resolver.warnings


def raster_status(catalog: Catalog, version_id: int) -> dict[str, str]:
    """Component uid -> its cached raster's status (ok, empty, ...)."""
    with catalog.session() as s:
        return {r.component_uid: r.status
                for r in s.scalars(select(MaskRaster).where(MaskRaster.version_id == version_id))}


def list_components(catalog: Catalog, version_id: int) -> list[dict]:
    """Every component of every masked layer, with its raster state ('-': not derived yet)."""
    recipe = load_recipe(catalog, version_id)
    status = raster_status(catalog, version_id)
    rows = []
    for layer in recipe.layers:
        if layer.mask is None:
            continue
        for comp in layer.mask.components:
            rows.append({
                "layer": layer.name, "uid": comp.uid, "kind": comp.kind, "mode": comp.mode,
                "inverted": comp.inverted, "feather": comp.feather, "grow": comp.grow,
                "params": comp.params, "raster": status.get(comp.uid, "-" if comp.is_ai else "n/a"),
            })
    return rows


def render_layer_mask(catalog: Catalog, version_id: int, layer_name: str, out: Path, *, overlay_photo: bool = False) -> dict:
    """Write a layer's mask as a PNG (grey matte, or red over the photo); cached AI rasters
    are reused.  Returns {width, height, coverage, hits, derived, warnings}; the warnings
    (empty or doubtful AI components) are also recorded for `maskroom review`."""
    recipe = load_recipe(catalog, version_id)
    layer = recipe.layer(layer_name)
    if layer is None:
        raise InvalidValue(f"no layer named {layer_name!r} (layers: {', '.join(x.name for x in recipe.layers)})")
    image_id = image_of_version(catalog, version_id)
    inp = mask_input(catalog, image_id, settings=recipe.settings)
    resolver = CachedResolver(catalog, version_id)
    alpha = compose(layer.mask, inp, resolver)
    if overlay_photo:
        data = (np.clip(overlay(inp.image, alpha), 0, 1) * 255 + 0.5).astype(np.uint8)[..., ::-1]
    else:
        data = (np.clip(alpha, 0, 1) * 255 + 0.5).astype(np.uint8)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, verify=verify_image) as tmp:
        if not cv2.imwrite(str(tmp), data):
            raise OSError(f"{out}: cannot write PNG")
    review.record_mask_warnings(catalog, version_id, layer.name, {c.uid for c in layer.mask.components if c.is_ai},
                                resolver.warnings)
    return {"width": alpha.shape[1], "height": alpha.shape[0], "coverage": float((alpha > 0.5).mean()),
            "hits": resolver.hits, "derived": resolver.misses, "warnings": resolver.warnings}


def mask_alpha(catalog: Catalog, version_id: int, layer_name: str, long_edge: int | None = None) -> np.ndarray:
    """A saved layer's mask (float32 HxW 0..1) at preview size: derives AI components (slow)."""
    return render.mask_alpha(catalog, version_id, layer_name, scale="preview", long_edge=long_edge)


def refresh(catalog: Catalog, image_ids: Sequence[int], *, jobs: int = 1, force: bool = False,
            progress: Progress | None = None, cluster: str | None = None) -> Iterator[dict]:
    """Re-derive stale AI masks of every version of each image; one dict per image."""
    yield from refresh_images(catalog, image_ids, jobs=max(1, jobs), force=force, progress=progress, cluster=cluster)


def detect_people(catalog: Catalog, version_id: int) -> list[dict]:
    """The people in the photo, left to right: [{index, box, face_box, score}] (normalised boxes).

    Uses the same pixels the person-part masks derive from, so the indexes match.
    """
    found = _detect_people(mask_input(catalog, image_of_version(catalog, version_id)))
    return [{"index": p.index, "box": list(p.box), "face_box": list(p.face_box) if p.face_box else None,
             "score": float(p.score)} for p in found]


def stale_component_uids(catalog: Catalog, version_id: int, recipe: Recipe) -> list[str]:
    """AI components derived before whose raster no longer matches the photo, the edit
    under them or the model (never-derived ones are not stale: the render derives them)."""
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
    with catalog.session() as s:
        rows = s.execute(select(MaskRaster.component_uid, MaskRaster.reason, MaskRaster.confidence).where(
            MaskRaster.version_id == version_id, MaskRaster.reason.is_not(None)))
        return {uid: reason + ("" if conf is None else f" (confidence {conf:.2f})") for uid, reason, conf in rows}


def refresh_components(catalog: Catalog, version_id: int, recipe: Recipe, uids: Sequence[str],
                       progress: Progress) -> int:
    """Re-derive the given AI components into the raster cache (the masks panel's refresh)."""
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


def mask_kinds() -> list[str]:
    """The mask kinds whose models are installed."""
    return list(available_kinds())
