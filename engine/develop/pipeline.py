"""Fixed-order rendering of a recipe on source pixels.

Order (docs/develop.md has the table):

1. source: decoded to linear Rec.2020 float32 (``source.py``)
2. the global layer's adjustments, in ``ORDER``
3. each enabled masked layer, top to bottom: the same ``ORDER`` of its adjustments
   applied to the image so far, blended in by ``mask alpha * opacity``
   (``out = img + a * (adjusted - img)``: soft masks fade the edit, as Lightroom's)
4. straighten and crop (global settings)
5. output conversion (``render.to_output``)

A masked layer only processes the bounding box of its mask (plus a margin for the
neighbourhood adjustments), and an ``ImageCache`` keeps the image after each layer
keyed by everything upstream, so changing one slider re-renders from that layer on.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

import cv2
import numpy as np

from maskroom.core.errors import InvalidValue
from maskroom.core.recipe import Layer, Recipe, RecipeError, canonical_json
from maskroom.core.values import check_adjustments, settable_keys
from maskroom.engine.develop.adjustments import REGISTRY, OpContext, clamp_value
from maskroom.engine.develop.adjustments.base import is_active
from maskroom.engine.develop.geometry import apply_geometry
from maskroom.engine.develop.memory import KeptPerArray
from maskroom.engine.develop.source import LRU
from maskroom.engine.executor import threads

log = logging.getLogger(__name__)

ORDER = (
    "temperature", "tint",  # white balance first: it is a property of the light
    "exposure",
    "highlights", "shadows", "whites", "blacks", "contrast",
    "dehaze",
    "texture", "clarity",
    "tone_curve",  # after the Basic tone sliders: the curve shapes their result, as in Lightroom
    "hue", "vibrance", "saturation",
    "mixer", "grading",  # HSL on the toned image, then grading tints the result
    "color_amount",
    "noise_reduction", "color_noise_reduction", "sharpness",
    "blur",
)
# Global layer only, after crop and straighten (post-crop vignette, then grain on top).
FINISHING = ("vignette", "grain")
SPARSE_SHARE = 0.6  # below this share of shown pixels a strip runs a pointwise layer on those pixels alone
ROI_MARGIN = 0.05  # of the long edge: covers the widest neighbourhood adjustment
ALPHA_FLOOR = 1.0 / 1024

MaskFn = Callable[[Layer], np.ndarray]


def validate_adjustments(adjustments: dict, masked: bool = False) -> None:
    """Raise RecipeError for unknown keys, values that are not finite numbers within
    their range, malformed curves (core/values.py, the one check), or finishing keys
    (vignette, grain) on a masked layer."""
    try:
        check_adjustments(adjustments)
    except InvalidValue as exc:
        raise RecipeError(str(exc)) from None
    if masked:
        for key in adjustments:
            if key.split(".")[0] in FINISHING:
                raise RecipeError(f"{key} is a finishing effect of the whole photo: set it on the global layer")


def _active_ops(adjustments: dict, names: tuple[str, ...] = ORDER) -> list[tuple]:
    unknown = set(adjustments) - settable_keys()
    if unknown:
        log.warning("ignoring unknown adjustments: %s", ", ".join(sorted(unknown)))
    ops = []
    for name in names:
        spec = REGISTRY[name]
        if not is_active(spec, adjustments):
            continue
        ops.append((spec, 1.0 if spec.keys else clamp_value(name, float(adjustments[name]))))
    return ops


def _fold_counted(run: list[tuple], ctx: OpContext) -> list[tuple]:
    """The run as strip functions, each with the number of the run's ops done after it:
    consecutive linear ones folded into one 3x3 matrix (clipped at 0 once at the end,
    where the separate ops clipped after each)."""
    fns: list = []
    matrix = None
    for n, (spec, value) in enumerate(run):
        if spec.matrix is not None:
            m = np.asarray(spec.matrix(value, ctx), np.float64)
            matrix = m if matrix is None else m @ matrix
            continue
        if matrix is not None:
            fns.append((_matrix_fn(matrix), n))
            matrix = None
        fns.append((lambda strip, spec=spec, value=value: spec.fn(strip, value, ctx), n + 1))
    if matrix is not None:
        fns.append((_matrix_fn(matrix), len(run)))
    return fns


def _prefix_key(run: list[tuple], n: int, params: dict) -> str:
    """What the result of the run's first ``n`` ops depends on besides their input: those
    ops and values, and the layer's settings less the keys only later ops read (moving
    the mixer's slider keeps the key of the ops before the mixer)."""
    later = {key for spec, _ in run[n:] for key in (spec.name, *spec.keys)}
    done = [(spec.name, value) for spec, value in run[:n]]
    return repr((done, sorted((k, repr(v)) for k, v in params.items() if k not in later)))


def _matrix_fn(matrix: np.ndarray):
    m = matrix.astype(np.float32)
    return lambda strip: cv2.max(cv2.transform(strip, m), 0.0)


def _run_fns(img: np.ndarray, fns: list, out: np.ndarray | None = None,
             strips: list[np.ndarray] | None = None) -> np.ndarray:
    """Strip functions run fused, strip by strip.  ``strips``: the input's strips as
    kept arrays (a kept prefix's, so the mixer finds its analysis of them made)."""
    if out is None:
        out = np.empty_like(img)

    def one(job):
        k, rows = job
        strip = strips[k] if strips is not None else np.ascontiguousarray(img[rows])
        for fn in fns:
            strip = fn(strip)
        out[rows] = strip

    threads.for_each(one, enumerate(threads.row_strips(*img.shape[:2])))
    return out


def _segments(ops: list[tuple]) -> list[tuple[bool, list[tuple]]]:
    """Consecutive ops grouped into (pointwise?, run) segments, order kept."""
    segs: list[tuple[bool, list[tuple]]] = []
    for op in ops:
        if segs and segs[-1][0] and op[0].pointwise:
            segs[-1][1].append(op)
        else:
            segs.append((op[0].pointwise, [op]))
    return segs


def _steps(ops: list[tuple], ctx: OpContext) -> list[tuple]:
    """The ops as (function, pointwise?, number of ops done after it): a pointwise run's
    strip functions (linear ones folded, ``_fold_counted``), a neighbourhood op's
    whole-image function."""
    steps, done = [], 0
    for pointwise, run in _segments(ops):
        if pointwise:
            steps += [(fn, True, done + n) for fn, n in _fold_counted(run, ctx)]
        else:
            spec, value = run[0]
            steps.append((lambda img, spec=spec, value=value: spec.fn(img, value, ctx), False, done + 1))
        done += len(run)
    return steps


def _groups(steps: list[tuple], start: int, stop: int | None) -> list[tuple]:
    """The steps after ``start`` as (pointwise?, functions, ops done after them): pointwise
    functions fused into one strip run, broken at ``stop`` (where a result is kept)."""
    groups: list[tuple] = []
    for fn, pointwise, n in steps:
        if n <= start:
            continue
        if pointwise and groups and groups[-1][0] and groups[-1][2] != stop:
            groups[-1][1].append(fn)
            groups[-1] = (True, groups[-1][1], n)
        else:
            groups.append((pointwise, [fn], n))
    return groups


def apply_adjustments(img: np.ndarray, adjustments: dict[str, float], ctx: OpContext,
                      inplace: bool = False, keep: bool = False) -> np.ndarray:
    """Run a layer's adjustments in the fixed order (neutral values are skipped).

    ``img`` is not modified unless ``inplace``; intermediates made here are always
    reused in place by later pointwise runs.  ``keep`` (the global layer of a preview,
    on a read-only source): start from the kept result of the ops before the one a
    slider drag moves, and keep it on the drag's first tick (``_GlobalPrefix``).
    """
    ctx.params = dict(adjustments)
    ops = _active_ops(adjustments)
    steps = _steps(ops, ctx)
    prefix = _global_prefix(img) if keep else None
    start, stop, strips = 0, None, None
    if prefix is not None:
        keys = {n: _prefix_key(ops, n, adjustments) for n in [0] + [n for _, _, n in steps]}
        start, kept, stop = prefix.plan(keys)
        if kept is not None:
            # the analyses the kept ops shared (highlights' local brightness map, which
            # shadows reads) are of the pixels before them: they come back with the result
            img, strips, inplace = kept[0], kept[1], False
            ctx.memo.update(kept[2])
    owned = inplace
    for pointwise, fns, n in _groups(steps, start, stop):
        if pointwise:
            img = _run_fns(img, fns, out=img if owned else None, strips=strips)
        else:
            ctx.owned = owned
            img = fns[0](img)
        strips, owned = None, True
        if n == stop:
            strips, owned = prefix.keep(n, keys[n], img, ctx.memo), False
    ctx.owned = False
    return img


class _GlobalPrefix:
    """The global layer's result after its first ops on one read-only input (a preview's
    cached source), kept while a slider drags a later op: the mixer's, the curve's or
    grading's ticks then skip exposure, highlights/shadows, clarity... before it.

    It keeps one result: on the render after which an op's settings first differ
    (a drag's first tick), the result just before that op, keyed by ``_prefix_key``
    (those ops and every setting the later ops do not read), read-only, with its
    strips as kept arrays (``memo_by_input`` then keeps the mixer's analysis of them).
    """

    def __init__(self):
        self.last: dict[int, str] = {}  # boundary (ops done) -> prefix key, of the previous render
        self.kept: tuple | None = None  # (ops done, prefix key, image, its strips, the ops' memo)

    def plan(self, keys: dict[int, str]) -> tuple[int, tuple | None, int | None]:
        """(ops done at the start, (image, strips, memo) to start from or None, boundary at which
        to keep the result or None)."""
        kept, start, hit = self.kept, 0, None
        if kept is not None and keys.get(kept[0]) == kept[1]:
            start, hit = kept[0], kept[2:]
        # Keys are cumulative: the ones that match the previous render's end just
        # before the first op whose settings moved.
        same = [n for n, key in keys.items() if self.last.get(n) == key]
        self.last = keys
        stop = max(same) if same else None
        if stop is None or stop <= start or stop == max(keys):
            stop = None
        return start, hit, stop

    def keep(self, n: int, key: str, img: np.ndarray, memo: dict) -> list[np.ndarray]:
        img.setflags(write=False)
        strips = [img[rows] for rows in threads.row_strips(*img.shape[:2])]
        self.kept = (n, key, img, strips, dict(memo))
        return strips


_PREFIX_SLOTS = 2  # the draft and the settled preview size
_PREFIXES = KeptPerArray(slots=_PREFIX_SLOTS)  # input -> its _GlobalPrefix


def _global_prefix(img: np.ndarray) -> _GlobalPrefix | None:
    """The ``_GlobalPrefix`` of a read-only, preview-size input (None for others: their
    pixels may change, or a kept copy would be too big)."""
    if img.flags.writeable or img.shape[0] * img.shape[1] > ImageCache.MAX_PIXELS:
        return None
    return _PREFIXES.setdefault((img,), (), _GlobalPrefix)


def is_identity(layer: Layer) -> bool:
    return not layer.enabled or layer.opacity <= 0 or not _active_ops(layer.adjustments)


def apply_finishing(img: np.ndarray, adjustments: dict, inplace: bool = False) -> np.ndarray:
    """The global layer's finishing effects (``FINISHING``) on the cropped frame."""
    ctx = OpContext(long_edge=max(img.shape[:2]), params=dict(adjustments))
    for spec, value in _active_ops(adjustments, FINISHING):
        ctx.owned = inplace
        img = spec.fn(img, value, ctx)
        inplace = True
    return img


def mask_roi(alpha: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    rows = np.flatnonzero(alpha.max(axis=1) > ALPHA_FLOOR)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(alpha[rows[0]:rows[-1] + 1].max(axis=0) > ALPHA_FLOOR)
    h, w = alpha.shape
    return (slice(max(0, rows[0] - margin), min(h, rows[-1] + 1 + margin)),
            slice(max(0, cols[0] - margin), min(w, cols[-1] + 1 + margin)))


def blend_layer(img: np.ndarray, layer: Layer, alpha: np.ndarray, inplace: bool = False) -> np.ndarray:
    """The image with a masked layer applied: ``img + a * (adjusted - img)``.

    Only the mask's bounding box (plus a margin for neighbourhood adjustments) is
    processed.  A layer of pointwise adjustments is computed and blended strip by
    strip without a full-size intermediate.  ``inplace`` lets the caller's array be
    overwritten (full renders, where nothing else holds it).
    """
    h, w = img.shape[:2]
    a = alpha * np.float32(layer.opacity) if layer.opacity < 1 else alpha
    ops = _active_ops(layer.adjustments)
    all_pointwise = all(spec.pointwise for spec, _ in ops)
    roi = mask_roi(a, 0 if all_pointwise else int(round(ROI_MARGIN * max(h, w))))
    if roi is None or not ops:
        return img
    out = img if inplace else _copy(img)
    ctx = OpContext(long_edge=max(h, w), mask=a[roi], params=dict(layer.adjustments))
    ry, rx = roi
    if all_pointwise:
        sub = img[roi]
        fns = [(fn, _prefix_key(ops, n, layer.adjustments)) for fn, n in _fold_counted(ops, ctx)]
        flat = _pixels_view(img), _pixels_view(out)
        state = _layer_input(img, alpha, a, roi, layer.opacity)

        def one(job):
            k, (rows, at, shown_alpha) = job
            sparse = at is not None and flat[0] is not None and flat[1] is not None
            base = state.base(k, lambda: (flat[0].take(at).view(np.float32).reshape(-1, 1, 3) if sparse
                                          else np.ascontiguousarray(sub[rows])))
            adj = state.run(k, base, fns)
            if sparse:
                # Pointwise: only the pixels the mask shows need the run (a colour range
                # or an AI subject often leaves most of its bounding box at 0).
                mixed = np.ascontiguousarray(_mix(base, adj, shown_alpha))
                np.put(flat[1], at, mixed.view(_PIXEL).reshape(-1))
            else:
                out[ry][rows, rx] = _mix(base, adj, a[roi][rows])

        threads.for_each(one, enumerate(state.plan))
        return out
    adjusted = apply_adjustments(np.ascontiguousarray(img[roi]), layer.adjustments, ctx)
    sub = img[roi]

    def mix(rows):
        out[ry][rows, rx] = _mix(np.ascontiguousarray(sub[rows]), adjusted[rows], a[roi][rows])

    threads.for_each(mix, threads.row_strips(*sub.shape[:2]))
    return out


def _copy(img: np.ndarray) -> np.ndarray:
    """A copy made strip by strip on the item's threads (24 MB at 2 MP: a masked layer
    copies the cached image below it before it writes its part)."""
    out = np.empty_like(img)
    threads.for_each(lambda rows: np.copyto(out[rows], img[rows]), threads.row_strips(*img.shape[:2]))
    return out


_PIXEL = np.dtype((np.void, 12))  # one float32 RGB pixel as a single item: 3x faster fancy indexing


def _pixels_view(img: np.ndarray) -> np.ndarray | None:
    """A contiguous float32 HxWx3 image as a flat array of pixel items (None otherwise)."""
    if img.dtype != np.float32 or not img.flags.c_contiguous:
        return None
    return img.view(_PIXEL).reshape(-1)


class _LayerInput:
    """What a pointwise masked layer computes from, kept while the same image and mask
    come back (a drag of one of the layer's own sliders): the strips' plan, their input
    pixels (gathered for the sparse strips) and the results of the run's first ops.

    Everything kept is read-only, and results are keyed by ``_prefix_key``, so an op
    whose settings did not change is not run again (the hue/saturation matrix before
    the mixer while the mixer's slider moves), and the mixer finds its hue analysis of
    the same input made (``adjustments.base.memo_by_input``).
    """

    def __init__(self, plan: list[tuple], keep: bool):
        self.plan = plan
        self.keep = keep
        self._bases: dict = {}
        self._results: dict = {}  # (strip, number of fns) -> (prefix key, result)
        self._lock = threading.Lock()

    def base(self, k: int, make: Callable[[], np.ndarray]) -> np.ndarray:
        hit = self._bases.get(k)
        if hit is not None:
            return hit
        base = make()
        if self.keep:
            base.setflags(write=False)
            self._bases[k] = base
        return base

    def run(self, k: int, base: np.ndarray, fns: list[tuple]) -> np.ndarray:
        """The strip's input through ``fns`` ((fn, prefix key) pairs), from the longest
        prefix already computed."""
        start, adj = 0, base
        if self.keep:
            for j in range(len(fns), 0, -1):
                hit = self._results.get((k, j))
                if hit is not None and hit[0] == fns[j - 1][1]:
                    start, adj = j, hit[1]
                    break
        for j in range(start, len(fns)):
            adj = fns[j][0](adj)
            if self.keep and j < len(fns) - 1:  # the last result changes with every tick
                adj.setflags(write=False)
                with self._lock:
                    self._results[(k, j + 1)] = (fns[j][1], adj)
        return adj


_INPUT_SLOTS = 2  # the layer being dragged, at the draft and the settled preview size
_INPUTS = KeptPerArray(slots=_INPUT_SLOTS)  # (image, mask; opacity, roi) -> _LayerInput


def _roi_key(roi: tuple[slice, slice]) -> tuple:
    return roi[0].start, roi[0].stop, roi[1].start, roi[1].stop


def _layer_input(img: np.ndarray, alpha: np.ndarray, a: np.ndarray, roi: tuple[slice, slice],
                 opacity: float) -> _LayerInput:
    """The ``_LayerInput`` of this image and mask: the kept one while both are the same
    read-only arrays (cached layer images and masks are), else a new one (kept only
    for preview-size images whose arrays cannot change)."""
    extra = (float(opacity), *_roi_key(roi))
    hit = _INPUTS.get((img, alpha), extra)
    if hit is not None:
        return hit
    keep = (not img.flags.writeable and not alpha.flags.writeable
            and img.shape[0] * img.shape[1] <= ImageCache.MAX_PIXELS)
    state = _LayerInput(_plan(a, alpha, roi, opacity), keep)
    if keep:
        _INPUTS.put((img, alpha), extra, state)
    return state


_PLAN_SLOTS = 8  # a few masked layers, at the draft and the settled preview size
_PLANS = KeptPerArray(slots=_PLAN_SLOTS)  # (mask; opacity, roi) -> its sparse plan


def _plan(a: np.ndarray, alpha: np.ndarray, roi: tuple[slice, slice], opacity: float) -> list[tuple]:
    """``_sparse_plan`` of a mask, kept while the mask is the same read-only array: a
    global slider's tick hands every masked layer a new image but the same masks."""
    if alpha.flags.writeable:
        return _sparse_plan(a, roi)
    extra = (float(opacity), *_roi_key(roi))
    hit = _PLANS.get((alpha,), extra)
    if hit is not None:
        return hit
    plan = _sparse_plan(a, roi)
    for _rows, at, shown in plan:
        if at is not None:
            at.setflags(write=False)
            shown.setflags(write=False)
    _PLANS.put((alpha,), extra, plan)
    return plan


def _sparse_plan(a: np.ndarray, roi: tuple[slice, slice]) -> list[tuple]:
    """Per strip of the ROI: (rows, None, None) to run on the whole strip, or (rows, flat
    indices of the pixels the mask shows, their alphas as an Nx1 column) to run on those
    alone; strips where nothing shows are left out."""
    ry, rx = roi
    h, w = a.shape
    plan = []
    for rows in threads.row_strips(ry.stop - ry.start, rx.stop - rx.start):
        strip = a[roi][rows]
        if strip.max() <= ALPHA_FLOOR:
            continue  # nothing of the layer shows in this strip (a mask's bounding box has holes)
        shown = np.flatnonzero(strip)  # alpha >= 0: the pixels it shows, as indices into the strip
        if shown.size >= SPARSE_SHARE * strip.size:
            plan.append((rows, None, None))
            continue
        y0 = ry.start + rows.start
        if rx.stop - rx.start == w:
            at = shown + y0 * w
        else:
            r, c = np.divmod(shown, rx.stop - rx.start)
            at = (r + y0) * w + (c + rx.start)
        plan.append((rows, at, np.ascontiguousarray(a.reshape(-1).take(at), np.float32).reshape(-1, 1)))
    return plan


def _mix(base: np.ndarray, adjusted: np.ndarray, a: np.ndarray) -> np.ndarray:
    """base + a * (adjusted - base) as one SIMD pass: (a*adjusted + (1-a)*base) / 1."""
    a = np.ascontiguousarray(a, np.float32)
    return cv2.blendLinear(np.ascontiguousarray(adjusted), np.ascontiguousarray(base), a, 1.0 - a)


def layer_key(upstream: str, layer: Layer) -> str:
    """The key of the image after ``layer``.  Finishing keys (vignette, grain) are left
    out: they act after the layers, on the cropped frame (``render_recipe``), so moving
    them re-renders no layer."""
    d = layer.to_dict()
    d["adjustments"] = {k: v for k, v in d["adjustments"].items() if k.split(".")[0] not in FINISHING}
    for comp in (d["mask"] or {}).get("components", []):
        comp.pop("uid", None)  # derived state stays in: a refreshed AI raster must re-render
    return hashlib.sha256((upstream + canonical_json(d)).encode()).hexdigest()


class ImageCache(LRU):
    """Images after each layer (and composed masks), for cheap interactive re-renders.

    A slider drag stores a new image for the moved layer on every tick.  Stored with
    its ``upstream`` key (the key of the image it was computed from), a new image
    *supersedes* the previous one computed from the same upstream, and everything that
    was computed from the superseded one goes with it: a drag keeps one chain of
    images instead of filling the cache with ticks it will not see again (which also
    evicted the layers before the moved one, and page-faulted a fresh 24 MB image in
    per tick at 2 MP).
    """

    MAX_PIXELS = 5_000_000  # full-size renders are not kept: they would evict everything
    MAX_LINKS = 4096

    def __init__(self, max_bytes: int):
        super().__init__(max_bytes)
        self._after: OrderedDict = OrderedDict()  # upstream key -> the newest key stored from it

    def put(self, key, value, upstream: str | None = None) -> None:
        if value.shape[0] * value.shape[1] > self.MAX_PIXELS:
            return
        value.setflags(write=False)
        if upstream is not None:
            with self._lock:
                old = self._after.pop(upstream, None)
                self._after[upstream] = key
                while old is not None and old != key:
                    self._d.pop(old, None)
                    old = self._after.pop(old, None)
                while len(self._after) > self.MAX_LINKS:
                    self._after.popitem(last=False)
        super().put(key, value)

    def clear(self) -> None:
        with self._lock:
            self._after.clear()
        super().clear()


def render_recipe(source: np.ndarray, source_digest: str, recipe: Recipe, mask_for: MaskFn,
                  cache: ImageCache | None = None, progress=None) -> np.ndarray:
    """Linear Rec.2020 float32 result of a recipe on ``source`` (not modified)."""
    layers = recipe.layers
    base = f"{source_digest}|{source.shape[1]}x{source.shape[0]}"
    keys, key = [], base
    for layer in layers:
        key = layer_key(key, layer)
        keys.append(key)
    start, img = 0, source
    # A source nobody caches (a full-size decode) arrives writable: render in it.
    consume = cache is None and source.flags.writeable
    if cache is not None:
        for i in range(len(layers) - 1, -1, -1):
            hit = cache.get(keys[i])
            if hit is not None:
                start, img = i + 1, hit
                break
    h, w = source.shape[:2]
    if progress is not None:
        progress.start(len(layers) - start, "layers")
    for i in range(start, len(layers)):
        layer = layers[i]
        if i == 0:
            if layer.enabled and layer.opacity > 0:
                full = layer.opacity >= 1
                adjusted = apply_adjustments(img, layer.adjustments, OpContext(long_edge=max(h, w)),
                                             inplace=consume and full, keep=cache is not None)
                img = adjusted if full else img + np.float32(layer.opacity) * (adjusted - img)
        elif not is_identity(layer):
            # Without a cache nothing else holds intermediate images: blend in place.
            inplace = cache is None and (img is not source or consume)
            img = blend_layer(img, layer, mask_for(layer), inplace=inplace)
        if cache is not None:
            if img is source:
                img = source.view()
            cache.put(keys[i], img, upstream=keys[i - 1] if i else base)
        if progress is not None:
            progress.advance(1, layer.name)
    out = apply_geometry(img, recipe.settings)
    glob = layers[0]
    if glob.enabled and glob.opacity > 0:
        # without a cache nothing else holds the result (a consumed source is ours too):
        # finish it in place
        inplace = cache is None and (consume or img is not source) and out.flags.writeable
        out = apply_finishing(out, glob.adjustments, inplace=inplace)
    return out
