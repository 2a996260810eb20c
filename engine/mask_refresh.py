"""Masks of images in the catalog: the pixels AI masks derive from, and re-deriving the
stale cached rasters of every version of an image (``maskroom mask refresh``, thumbnails
with ``--derive-masks``).

It sits above both the develop pipeline (whose source decode gives the mask input)
and the mask raster cache (engine/masks/cache.py), so neither imports the other
back.
"""
from __future__ import annotations

import json

from maskroom.catalog import edits
from maskroom.catalog.schema import Image
from maskroom.core.progress import Progress
from maskroom.engine.develop.render import source_mask_input
from maskroom.engine.executor import Work, make_executor
from maskroom.engine.masks.cache import CachedResolver
from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.registry import MaskInput

# -- batch re-derivation ------------------------------------------------------

PREVIEW_LONG_EDGE = 2048


def mask_input(catalog, image_id: int, long_edge: int = PREVIEW_LONG_EDGE,
               settings: dict | None = None) -> MaskInput:
    """The pixels masks are derived from for an image, at the preview size.

    ``settings`` are the version's RAW settings: the render derives masks from the
    source decoded with them, so a raster derived here must be too (else its digest
    differs and the render derives it again).

    The develop pipeline's ``source_mask_input`` makes them: it applies the upstream
    edit and knows RAW, so a raster derived here matches the one the render derives.
    """
    with catalog.session() as s:
        img = s.get(Image, image_id)
        if img is None:
            raise LookupError(f"no image with id {image_id}")
        s.expunge(img)
    scale = min(1.0, long_edge / max(img.width or long_edge, img.height or long_edge, 1))
    return source_mask_input(catalog, img, scale, settings=settings)


def ai_components(recipe):
    for layer in recipe.layers:
        if layer.mask is None:
            continue
        for comp in layer.mask.components:
            if comp.is_ai:
                yield layer, comp


def refresh_image(catalog, image_id: int, *, force: bool = False) -> dict:
    """Re-derive the stale AI components of every version of an image (master and
    virtual copies): each version keeps its own rasters and may decode a RAW with its
    own settings."""
    with catalog.session() as s:
        edits.get_version(s, image_id)  # a never-edited image gets its master here
        versions = [(v.id, edits.load_recipe(s, v.id)) for v in edits.versions_of(s, image_id)]
    out = {"image_id": image_id, "version_ids": [vid for vid, _ in versions], "components": 0,
           "derived": 0, "empty": 0, "warnings": []}
    inputs: dict[str, MaskInput] = {}  # versions with the same settings share one decode
    for version_id, recipe in versions:
        comps = list(ai_components(recipe))
        out["components"] += len(comps)
        if not comps:
            continue
        key = json.dumps(recipe.settings or {}, sort_keys=True, default=str)
        if key not in inputs:
            inputs[key] = mask_input(catalog, image_id, settings=recipe.settings)
        inp = inputs[key]
        resolver = CachedResolver(catalog, version_id)
        for _layer, comp in comps:
            if force or resolver.is_stale(inp, comp):
                result = derive(inp, comp)
                resolver.store(inp, comp, result)
                out["derived"] += 1
                out["empty"] += int(not result.found)
        out["warnings"] += [{"version_id": version_id, "uid": uid, "kind": kind, "confidence": conf, "reason": reason}
                            for uid, kind, conf, reason in resolver.warnings]
    return out


def _refresh_item(ctx, image_id: int, force: bool = False) -> dict:
    try:
        return refresh_image(ctx.catalog, image_id, force=force)
    except Exception as exc:  # one bad image must not stop the batch
        return {"image_id": image_id, "error": str(exc)}


def _refresh_forced(ctx, image_id: int) -> dict:
    return _refresh_item(ctx, image_id, force=True)


def refresh_images(catalog, image_ids, *, jobs: int = 1, force: bool = False, progress=None,
                   cluster: str | None = None):
    """Refresh many images on ``jobs`` worker processes (or a cluster); yields one dict per image."""
    progress = progress or Progress()
    ids = list(image_ids)
    progress.start(len(ids), "masks")
    with make_executor(catalog, jobs, cluster) as executor:
        for out in executor.map(Work(_refresh_forced if force else _refresh_item, catalog.location), ids, progress):
            res = out.value if out.ok else {"image_id": out.item, "error": str(out.error)}
            progress.advance(1, str(res.get("image_id")))
            yield res
