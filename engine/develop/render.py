"""The develop engine's public render API (used by the CLI, the UI, export and sync).

* ``render_version``: a version's recipe rendered at preview or full scale, as linear
  Rec.2020 float32 (the working space; see docs/develop.md).
* ``to_output``: working space -> sRGB / Display P3 / Adobe RGB, 8 or 16 bit, with
  the matching ICC profile.
* ``render_preview_srgb``: what the UI shows; cached on disk in
  ``<cache_dir>/renders`` keyed by (image content hash, recipe hash, size), so a
  changed photo or a changed edit misses the cache and old entries are replaced.
* ``mask_alpha``: a layer's composed mask at a render scale (red overlays).
* ``source_mask_input``: the pixels masks derive from (the unedited source).

Masks: pixel-derived kinds (AI and range kinds) are derived on the preview-scale
source whatever the render scale, so an export reuses the AI rasters computed while
editing and a full render masks exactly like the preview; geometric kinds are
rasterised at the render size (crisp edges).
"""
from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import delete, select

from maskroom.catalog.edits import load_recipe
from maskroom.catalog.schema import EditVersion, Image, PreviewCacheEntry
from maskroom.core.files import atomic_path, verify_image
from maskroom.core.recipe import GEOMETRIC_KINDS, Layer, MaskComponent, Recipe, canonical_json
from maskroom.engine.develop import source as source_module
from maskroom.engine.develop.color import (
    OUTPUT_SPACES,
    WORK_TO_SRGB,
    _encode_lut,
    apply_matrix,
    encode,
    icc_profile,
    work_to_space_matrix,
)
from maskroom.engine.develop.lens import with_lens_default
from maskroom.engine.develop.memory import heap_reuse, warm_heap
from maskroom.engine.develop.pipeline import ImageCache, render_recipe
from maskroom.engine.develop.source import LRU, PREVIEW_LONG_EDGE, load_source, seed_preview
from maskroom.engine.executor import threads
from maskroom.engine.masks.cache import CachedResolver
from maskroom.engine.masks.compose import compose, derive
from maskroom.engine.masks.registry import MaskInput, get_kind

SCALES = ("preview", "full")
OUTPUT_STRIP_PIXELS = 1 << 16  # to_output's strips: 0.8 MB of float32 scratch, reused
_IMAGES = ImageCache(600 * 1024 * 1024)
_MASK_INPUTS = LRU(200 * 1024 * 1024)


@dataclass
class RenderResult:
    linear: np.ndarray  # float32 HxWx3, linear Rec.2020 (D65)
    width: int
    height: int
    recipe_hash: str


def _load(catalog, version_id: int) -> tuple[Image, Recipe, str]:
    with catalog.session() as s:
        version = s.get(EditVersion, version_id)
        if version is None:
            raise LookupError(f"edit version {version_id} does not exist")
        recipe = load_recipe(s, version_id)
        image = s.get(Image, version.image_id)
        s.expunge(image)
    return image, recipe, recipe.digest()


def _default_resolver(catalog, version_id: int):
    return CachedResolver(catalog, version_id)


# -- mask input -------------------------------------------------------------

def _mask_input_from(lin: np.ndarray, digest: str, image_id: int | None) -> MaskInput:
    key = ("mi", digest)
    hit = _MASK_INPUTS.get(key)
    if hit is not None:
        return MaskInput(image=hit[0], digest=digest, linear=lin, image_id=image_id)
    disp = encode(apply_matrix(lin, WORK_TO_SRGB), "srgb")
    disp.setflags(write=False)
    _MASK_INPUTS.put(key, (disp,))
    return MaskInput(image=disp, digest=digest, linear=lin, image_id=image_id)


def source_mask_input(catalog, image, scale="preview", long_edge: int | None = None,
                      settings: dict | None = None) -> MaskInput:
    """The unedited source as display sRGB float32 0..1, with a digest of (content, scale, size).

    ``scale`` is "preview" / "full", or a float factor of the full size (the mask
    cache passes one): factors whose size fits the 2048 px preview use the preview.
    """
    if not isinstance(scale, str):
        full_long = max(image.width or 1, image.height or 1)
        want = max(1, int(round(float(scale) * full_long)))
        scale, long_edge = ("preview", want) if want <= PREVIEW_LONG_EDGE else ("full", want)
        if scale == "preview" and want >= min(PREVIEW_LONG_EDGE, full_long):
            long_edge = None
    lin, digest = load_source(catalog, image, scale, long_edge, settings)
    return _mask_input_from(lin, digest, image.id)


class _ScaleAwareResolver:
    """Geometric kinds at the render size; pixel-derived kinds on the preview source."""

    def __init__(self, base: Callable, pixel_input: Callable[[], MaskInput]):
        self.base = base
        self.pixel_input = pixel_input
        self._inp: MaskInput | None = None

    def __call__(self, inp: MaskInput, comp: MaskComponent):
        if comp.kind in GEOMETRIC_KINDS or comp.kind == "all":
            return derive(inp, comp)
        if self._inp is None:
            self._inp = self.pixel_input()
        return self.base(self._inp, comp)


def cache_context(catalog, version_id, digest: str, recipe: Recipe, resolver) -> str:
    """What, besides the recipe, decides a cached mask or layer image: the pixels, the
    catalog and version (AI rasters live there), the resolver and the code of every
    mask kind used (so a re-registered or patched kind is never served stale)."""
    kinds = sorted({c.kind for layer in recipe.layers if layer.mask for c in layer.mask.components})
    fns = []
    for kind in kinds:
        try:
            fns.append(f"{kind}:{id(get_kind(kind).fn)}")
        except KeyError:
            fns.append(f"{kind}:missing")
    parts = [digest, str(catalog.cache_dir) if catalog is not None else "-", str(version_id),
             type(resolver).__name__, str(id(resolver)) if not hasattr(resolver, "catalog") else "", *fns]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def layer_mask_fn(catalog, image, recipe: Recipe, source: np.ndarray, digest: str, resolver,
                  context: str = "", *, memo: bool = True):
    """``mask_for(layer) -> alpha`` at the size of ``source`` for a recipe on an image.

    Geometric kinds are drawn at that size; pixel kinds (AI rasters, ranges) are
    derived on the 2048 px preview source, as in Develop, and resized.  ``memo``
    keeps finished alphas in the in-memory image cache (the grid's thumbnails pass
    False so they never evict the open photo's layers).
    """
    pixel_input = lambda: source_mask_input(catalog, image, "preview", settings=recipe.settings)  # noqa: E731
    scale_resolver = _ScaleAwareResolver(resolver, pixel_input)
    h, w = source.shape[:2]
    inp = MaskInput(image=_shape_only(h, w), digest=digest, image_id=image.id)

    def mask_for(layer: Layer) -> np.ndarray:
        key = ("mask", context or digest, f"{w}x{h}", _mask_key(layer))
        hit = _IMAGES.get(key) if memo else None
        if hit is not None:
            return hit
        alpha = compose(layer.mask, inp, scale_resolver)
        if alpha.shape != (h, w):
            shrink = alpha.shape[0] > h
            alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        if memo:
            _IMAGES.put(key, alpha)
        return alpha

    return mask_for


def _shape_only(h: int, w: int) -> np.ndarray:
    """A zero-cost HxWx3 array standing for the render-size input (only its shape is read)."""
    return np.broadcast_to(np.zeros((1, 1, 3), np.float32), (h, w, 3))


def _mask_key(layer: Layer) -> str:
    d = layer.mask.to_dict() if layer.mask else {}
    for comp in d.get("components", []):
        comp.pop("uid", None)  # derived state stays in: a refreshed AI raster must re-render

    return hashlib.sha256(canonical_json(d).encode()).hexdigest()


# -- rendering --------------------------------------------------------------

def render_version(catalog, version_id: int, *, scale: str = "preview", long_edge: int | None = None,
                   mask_resolver=None, progress=None) -> RenderResult:
    """Render a version's current recipe (linear Rec.2020 float32)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, not {scale!r}")
    image, recipe, recipe_hash = _load(catalog, version_id)
    return render_recipe_for(catalog, image, recipe, version_id=version_id, scale=scale, long_edge=long_edge,
                             mask_resolver=mask_resolver, progress=progress, recipe_hash=recipe_hash)


def render_recipe_for(catalog, image, recipe: Recipe, *, version_id: int | None = None, scale: str = "preview",
                      long_edge: int | None = None, mask_resolver=None, progress=None,
                      recipe_hash: str | None = None) -> RenderResult:
    """Render any recipe on an image (used by render_version, and by previews of unsaved edits)."""
    big = scale == "full" and (long_edge or max(image.width or 0, image.height or 0)) > 3000
    # Decoded before heap reuse starts: the decoders' transient buffers then go back to
    # the system instead of staying in the heap under the working image (-260 MB at 100 MP).
    source = load_source(catalog, image, scale, long_edge, recipe.settings)
    if not big:
        warm_heap()
    with heap_reuse() if big else contextlib.nullcontext():
        return _render(catalog, image, recipe, version_id, scale, long_edge, mask_resolver, progress, recipe_hash,
                       source)


def _render(catalog, image, recipe, version_id, scale, long_edge, mask_resolver, progress, recipe_hash, loaded):
    source, digest = loaded
    if scale == "full" and long_edge is None and _needs_pixel_masks(recipe):
        seed_preview(image, source, with_lens_default(catalog, image, recipe.settings))
    resolver = mask_resolver or (_default_resolver(catalog, version_id) if version_id is not None else derive)
    context = cache_context(catalog, version_id, digest, recipe, resolver)
    mask_for = layer_mask_fn(catalog, image, recipe, source, digest, resolver, context)
    cache = _IMAGES if source.shape[0] * source.shape[1] <= ImageCache.MAX_PIXELS else None
    linear = render_recipe(source, context, recipe, mask_for, cache=cache, progress=progress)
    h, w = linear.shape[:2]
    return RenderResult(linear=linear, width=w, height=h, recipe_hash=recipe_hash or recipe.digest())


def _needs_pixel_masks(recipe: Recipe) -> bool:
    return any(c.kind not in GEOMETRIC_KINDS and c.kind != "all"
               for layer in recipe.layers[1:] if layer.mask and layer.enabled for c in layer.mask.components)


def mask_alpha(catalog, version_id: int, layer_name: str, scale: str = "preview",
               long_edge: int | None = None) -> np.ndarray:
    """A layer's composed mask (float32 HxW, uncropped frame) at a render scale."""
    image, recipe, _ = _load(catalog, version_id)
    layer = recipe.layer(layer_name)
    if layer is None:
        raise LookupError(f"version {version_id} has no layer named {layer_name!r}")
    source, digest = load_source(catalog, image, scale, long_edge, recipe.settings)
    if layer.mask is None:
        return np.ones(source.shape[:2], np.float32)
    resolver = _default_resolver(catalog, version_id)
    context = cache_context(catalog, version_id, digest, recipe, resolver)
    mask_for = layer_mask_fn(catalog, image, recipe, source, digest, resolver, context)
    return mask_for(layer)


# -- output -----------------------------------------------------------------

def to_output(linear: np.ndarray, colorspace: str = "srgb", bits: int = 8) -> tuple[np.ndarray, bytes]:
    """Working space -> encoded output pixels (uint8 or uint16 HxWx3) and their ICC profile.

    The transfer curve is a 65536-entry table indexed by the 16-bit quantised linear
    value: 7x less CPU than evaluating pow() per pixel (measured at 2 and 24 MP).
    """
    if colorspace not in OUTPUT_SPACES:
        raise ValueError(f"unknown colour space {colorspace!r} (known: {', '.join(OUTPUT_SPACES)})")
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16, not {bits}")
    lut = _output_lut(colorspace, bits)
    n = len(lut) - 1
    # + 0.5 in the transform's offset column: clip(x, 0, n) + 0.5 is clip(x + 0.5, 0.5, n + 0.5)
    m = np.hstack([work_to_space_matrix(colorspace) * np.float32(n), np.full((3, 1), 0.5, np.float32)])
    h, w = linear.shape[:2]
    out = np.empty((h, w, 3), lut.dtype)
    # Strip by strip through two scratch buffers reused for every strip: whole-image
    # temporaries would add 1.8 GB at 100 MP, and fresh multi-MB temporaries per strip
    # cost more in page faults than the conversion itself (a 2 MP preview: 18 -> 80 ms
    # CPU on a busy machine).  Small strips also stay in the CPU cache between steps.
    # One band of rows per thread this item may use, each with its own scratch pair.
    rows = max(1, OUTPUT_STRIP_PIXELS // max(1, w))
    per_band = max(1, -(-h // threads.count()))  # at least a row: range() refuses a step of 0

    def band(y0: int) -> None:
        y1 = min(h, y0 + per_band)
        x = np.empty((min(rows, y1 - y0), w, 3), np.float32)
        idx = np.empty(x.shape, np.uint16)
        for y in range(y0, y1, rows):
            k = min(rows, y1 - y)
            cv2.transform(np.ascontiguousarray(linear[y:y + k], np.float32), m, dst=x[:k])
            np.clip(x[:k], 0.5, n + 0.5, out=x[:k])
            np.copyto(idx[:k], x[:k], casting="unsafe")  # truncation: rounds the +0.5 value
            # straight into the output; clip mode: raise mode buffers its output (10x slower)
            np.take(lut, idx[:k], out=out[y:y + k], mode="clip")

    threads.for_each(band, range(0, h, per_band))
    return out, icc_profile(colorspace)


_LUTS: dict = {}


def _output_lut(space: str, bits: int) -> np.ndarray:
    key = (space, bits)
    if key not in _LUTS:
        enc = _encode_lut(space)
        top = 255 if bits == 8 else 65535
        _LUTS[key] = np.round(enc * top).astype(np.uint8 if bits == 8 else np.uint16)
    return _LUTS[key]


def _render_path(catalog, image, recipe_hash: str, long_edge: int) -> Path:
    h = image.content_hash
    return Path(catalog.cache_dir) / "renders" / h[:2] / f"{h}-{recipe_hash[:24]}-{long_edge}.png"


def render_preview_srgb(catalog, version_id: int, long_edge: int | None = None) -> np.ndarray:
    """The version rendered for display (sRGB uint8 HxWx3), cached on disk."""
    image, recipe, recipe_hash = _load(catalog, version_id)
    edge = int(long_edge or PREVIEW_LONG_EDGE)
    key = f"{image.content_hash}:{recipe_hash}:{edge}"
    path = _render_path(catalog, image, recipe_hash, edge)
    with catalog.session() as s:
        entry = s.scalar(select(PreviewCacheEntry).where(
            PreviewCacheEntry.image_id == image.id, PreviewCacheEntry.kind == "render",
            PreviewCacheEntry.key == key))
        if entry is not None and path.exists():
            px = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if px is not None:
                return cv2.cvtColor(px, cv2.COLOR_BGR2RGB)
    result = render_recipe_for(catalog, image, recipe, version_id=version_id, scale="preview",
                               long_edge=edge if edge < PREVIEW_LONG_EDGE else None, recipe_hash=recipe_hash)
    rgb, _ = to_output(result.linear, "srgb", 8)
    _store_render(catalog, image, key, path, rgb, edge)
    return rgb


def _store_render(catalog, image, key: str, path: Path, rgb: np.ndarray, edge: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, verify=verify_image) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1]):
            raise OSError(f"{path}: cannot write the rendered preview")
    root = Path(catalog.cache_dir)
    suffix = f"-{edge}.png"
    with catalog.session() as s:
        # Older renders of this image at this size are stale (edit or photo changed).
        old = s.scalars(select(PreviewCacheEntry).where(
            PreviewCacheEntry.image_id == image.id, PreviewCacheEntry.kind == "render",
            PreviewCacheEntry.key != key)).all()
        for entry in old:
            if entry.path.endswith(suffix):
                (root / entry.path).unlink(missing_ok=True)
                s.delete(entry)
        s.execute(delete(PreviewCacheEntry).where(
            PreviewCacheEntry.image_id == image.id, PreviewCacheEntry.kind == "render",
            PreviewCacheEntry.key == key))
        s.add(PreviewCacheEntry(image_id=image.id, kind="render", key=key, path=str(path.relative_to(root)),
                                width=rgb.shape[1], height=rgb.shape[0]))


def clear_memory_caches() -> None:
    """Drop the in-memory source, layer and mask caches (tests, memory pressure)."""
    source_module._SOURCES.clear()
    _IMAGES.clear()
    _MASK_INPUTS.clear()
