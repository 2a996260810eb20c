"""The "sky" mask kind: two small sky models fused, then refined on the photo.

Why two models (see models/ and /work/shared/models-upstream/README.md): the
U²-Netp sky model is precise and rarely fires indoors but misses pale or hazy
skies; EGE-UNet catches hazy skies but takes bright walls and ceilings for sky.
Measured on the project's pairs (ADE20K sky incl. indoor negatives, CamVid), a
weighted mean leaning on U²-Netp beats either model, their max, their min and
hysteresis from one into the other (numbers in docs/masks.md).  Specks smaller
than a fraction of a percent of the frame are dropped (a sky is not a few pixels of
a bright lamp), then the matte is refined at full resolution on the photo so branch
and ridge edges follow the pixels rather than the 384 px model grid.
"""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.core.recipe import MaskComponent
from maskroom.engine.executor import threads
from maskroom.engine.masks import model_store
from maskroom.engine.masks.cache import kind_version
from maskroom.engine.masks.people import all_people_alpha, detect_people
from maskroom.engine.masks.people.faces import detect_faces
from maskroom.engine.masks.refine import RefineGuide, refine_alpha
from maskroom.engine.masks.registry import MaskInput, MaskResult, register
from maskroom.engine.masks.sky_context import plain_walls, window_panes
from maskroom.engine.masks.sky_horizon import level_edges, water_below_horizon

# U²-Netp runs as its int8 derivative (tools/models/quantize.py): 2.4x faster on CPU, and on the
# pairs ADE20K IoU -0.001, CamVid +0.000, false sky -0.03 % against the fp32 file
# (docs/masks.md, "Sky speed").  The fp32 file stays shipped: the int8 one is made from it.
MODEL_U2 = "sky_u2netp_int8"
MODEL_U2_FP32 = "sky_u2netp"
MODEL_EGE = "sky_ege"
SIZE = 384  # EGE's fixed input, and the grid the fusion and its rules work on
# U²-Netp sees the photo with its shape kept, long edge U2_EDGE, sides multiples of 32 (its five
# poolings); its answer is resized to the SIZE x SIZE grid for the fusion.  The int8 file takes
# any size (tools/models/quantize.py frees it).  Against the SIZE x SIZE square (the photo
# squeezed, as before): U²-Netp on a 3:2 photo costs 2/3 of the square's time, 4:3 3/4, a
# square photo the same; on the pairs ADE20K 0.8671 -> 0.8688 (false sky 0.43 -> 0.53 %),
# CamVid 0.8930 -> 0.8916, hard cases 0.9430 -> 0.9431.  A shorter long edge loses sky the
# model sees at 384 (ADE20K 0.8588 at 352, 0.8543 at 320; the 320 square 0.8541): docs/masks.md.
U2_EDGE = 384
# Bump when the fusion, the models' inputs or refinement change: cached rasters are keyed by it
# (fuse12: U²-Netp keeps the photo's shape, U2_EDGE).
FUSION_VERSION = "fuse12"
U2_WEIGHT = 0.6
THRESHOLD = 0.5
MIN_REGION = 0.0005  # of the frame: smaller sky specks are noise
MIN_FOUND = 0.001  # less sky than this in total: "no sky"
# Refinement decides at this long edge (refine_alpha's default is 768): at the 2048 px
# preview 640 saves ~11 % of the sky mask's time (0.509 -> 0.453 s at load 3.7, four
# photos, interleaved) for ADE20K 0.8621 -> 0.8616, hard cases 0.9375 -> 0.9372,
# CamVid unchanged; the matte agrees with the 768 px one at IoU 0.994-0.9996.
REFINE_EDGE = 640
# Where the fused probability hesitates on the not-sky side (a crown of twigs, fronds:
# the 384 px grid sees a grey mix) the refinement lets the photo decide too, so sky
# between branches comes back instead of a solid hull.  Refined, through the same
# cached outputs: ADE20K 0.8653 -> 0.8671, hard cases 0.9376 -> 0.9430, CamVid 0.8998 ->
# 0.8931 (CamVid labels bare canopies "tree"); (0.1, 0.5) 0.8665 / 0.9437 / 0.8905,
# (0.05, 0.95) 0.8616 / 0.9420 / 0.8984 (docs/masks.md).
UNCERTAIN = (0.2, 0.5)

_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


def _run(name: str, x: np.ndarray, options=None) -> np.ndarray:
    """One model's probability map at its input's size (``x``: CHW)."""
    sess = model_store.get_session(name)
    feed = {sess.get_inputs()[0].name: x[None].astype(np.float32)}
    out = sess.run(None, feed, options)[0]
    return np.asarray(out, np.float32).reshape(x.shape[1:])


def _run_u2(x: np.ndarray, options=None) -> np.ndarray:
    """U²-Netp's sky probability on the fusion's SIZE x SIZE grid."""
    p = _run(MODEL_U2, x, options)
    return p if p.shape == (SIZE, SIZE) else cv2.resize(p, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)


def _start(fn, *args):
    """``fn(*args)`` started beside the caller (``executor.threads``): U²-Netp runs there
    while the calling thread runs EGE and prepares what needs no model (onnxruntime
    releases the GIL while a model runs; so do OpenCV and numpy's large loops).  The
    int8 U²-Netp hardly uses a second core on CPUs without VNNI, so a sky image kept
    one core mostly idle for ~60 % of its time.  In a process allowed one thread (a
    batch worker: the workers are the parallelism) it runs when its result is asked
    for, after EGE and the preparation, and not at all when EGE sees no sky."""
    return threads.start(fn, *args) if model_store.threads() > 1 else threads.Later(fn, *args)


def model_size(image: np.ndarray) -> np.ndarray:
    """The photo at the models' input size (also what the colour rules look at)."""
    return cv2.resize(image.astype(np.float32, copy=False), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def u2_size(h: int, w: int) -> tuple[int, int]:
    """(height, width) of U²-Netp's input for an h x w photo: its shape kept, long edge
    U2_EDGE, each side a multiple of 32."""
    s = U2_EDGE / max(h, w)
    return max(32, round(h * s / 32) * 32), max(32, round(w * s / 32) * 32)


def u2_input(image: np.ndarray) -> np.ndarray:
    """U²-Netp's input tensor (CHW, at ``u2_size``) from an sRGB float image of any size."""
    uh, uw = u2_size(*image.shape[:2])
    x = cv2.resize(image.astype(np.float32, copy=False), (uw, uh), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(((x - _MEAN) / _STD).transpose(2, 0, 1))


def ege_input(small: np.ndarray) -> np.ndarray:
    """EGE's input tensor (CHW) from ``model_size(image)``, as its upstream test program
    feeds it: a fixed mean/std, then the whole normalised tensor min-max rescaled to 0..255."""
    ege = (small * 255.0 - 117.790845) / 64.18484
    lo, hi = float(ege.min()), float(ege.max())
    ege = (ege - lo) / max(hi - lo, 1e-6) * 255.0
    return np.ascontiguousarray(ege.transpose(2, 0, 1))


def model_inputs(image: np.ndarray, small: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The two models' input tensors (``u2_input``, ``ege_input``) from an sRGB float image
    of any size (``small``: ``model_size(image)`` if the caller has it)."""
    return u2_input(image), ege_input(model_size(image) if small is None else small)


def _u2_of_photo(image: np.ndarray, options=None) -> np.ndarray:
    """U²-Netp on the fusion's grid, its input made here too (in the worker thread)."""
    return _run_u2(u2_input(image), options)


def sky_probabilities(image: np.ndarray, small: np.ndarray | None = None, *, lazy: bool = False,
                      meanwhile=None):
    """(U²-Netp, EGE) sky probability at SIZE x SIZE (U²-Netp's resized from its own input size).

    U²-Netp (about 9x EGE's cost) runs in a worker thread, its input made there too, while
    this one makes ``small`` (``model_size``, when not given) and runs EGE, then
    ``meanwhile(small)`` (work that needs neither model's answer) if given; in a process
    allowed one thread (``model_store.threads()``) it runs after them instead.
    ``lazy``: when EGE, the cheap and liberal model, sees no sky anywhere, U²-Netp is
    stopped where it is and the U²-Netp entry is None (``meanwhile`` is not called).
    Measured on the pairs: 16 of 176 images stopped, results unchanged but for one
    ADE20K image (mean IoU 0.8637 -> 0.8634) - see docs/masks.md.
    """
    import onnxruntime as ort  # lazy, as in model_store: only when a model runs (CLI start-up time)

    stop = ort.RunOptions()
    # Started before anything else: U²-Netp is the long pole, the rest waits for it.
    u2 = _start(_u2_of_photo, image, stop)
    try:
        small = model_size(image) if small is None else small
        p_ege = np.clip(_run(MODEL_EGE, ege_input(small)), 0, 1)
        if lazy and no_sky_at_all(p_ege):
            # Not waited for: onnxruntime checks the flag between nodes, and the run
            # ends (with an error nobody reads) at the next one.
            stop.terminate = True
            return None, p_ege
        if meanwhile is not None:
            meanwhile(small)
    except BaseException:
        stop.terminate = True
        raise
    return np.clip(u2.result(), 0, 1), p_ege


EGE_ANY = 0.3  # EGE fires on far more than sky: below this nowhere, there is no sky


def no_sky_at_all(p_ege: np.ndarray) -> bool:
    return float((p_ege > EGE_ANY).mean()) < MIN_FOUND


def fuse(p_u2: np.ndarray, p_ege: np.ndarray, small: np.ndarray | None = None) -> np.ndarray:
    """One sky probability from the two models' (same-size) outputs (``fuse_with_reason``
    without the reason)."""
    return fuse_with_reason(p_u2, p_ege, small)[0]


def fuse_with_reason(p_u2: np.ndarray, p_ege: np.ndarray, small: np.ndarray | None = None,
                     edges: np.ndarray | None = None) -> tuple[np.ndarray, str | None]:
    """(one sky probability from the two models' same-size outputs, why it is doubtful or
    None): "not counted ..." when a context rule removed a region as not sky, "... (water
    or a backdrop?)" when a kept blue region fills the frame down to its bottom edge.

    ``small`` (the photo at the models' size) enables the colour veto: both models
    take plain out-of-focus backgrounds of close-ups for sky.  A region whose mean
    colour is nearly black (a dark backdrop; night skies are given up) or strongly
    magenta/green (flower and foliage bokeh) is dropped, and so is a pale region that
    runs down to the frame's bottom edge (a defocused backdrop), water below a
    straight horizon (sky_horizon.py), a plain wall U²-Netp doubts and the panes of a
    room's windows (sky_context.py).  ``edges``: ``sky_horizon.level_edges(small)`` when
    the caller has it already.
    """
    p = U2_WEIGHT * p_u2 + (1.0 - U2_WEIGHT) * p_ege
    hard = (p > THRESHOLD).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hard, connectivity=8)
    reason = None
    if n > 1:
        drop = stats[:, cv2.CC_STAT_AREA] < MIN_REGION * hard.size
        if small is not None:
            colours = _region_colours(small, labels, n)
            drop |= _colour_veto(colours)
            drop |= _backdrop_to_bottom(colours, labels, n)
            walls = plain_walls(labels, n, colours, p_u2, small) & ~drop
            if walls.any():
                drop |= walls
                reason = ("not counted: a plain area, not blue, that the precise sky model doubts"
                          " (a wall, lamp or backdrop?)")
        # A region one model all but rules out is not sky: U²-Netp alone fires on
        # plain ceilings, EGE alone on bright walls (measured on ADE20K negatives).  Small
        # regions are spared: through a window the models often disagree on real sky.
        counts = np.maximum(np.bincount(labels.ravel(), minlength=n), 1)
        for prob in (p_u2, p_ege):
            mean = np.bincount(labels.ravel(), weights=prob.ravel(), minlength=n) / counts
            drop |= (mean < DISAGREE) & (counts > DISAGREE_MIN_AREA * labels.size)
        drop[0] = False
        if drop.any():
            p = np.where(drop[labels], np.minimum(p, THRESHOLD - 0.01), p)
    # EGE is the liberal model: where it calls most of the frame sky and U²-Netp rules
    # that out, the photo is not an ordinary sky scene (the hard-case aquarium: 72 % of
    # the frame; the most on any pair with a real sky is 32 %, a sunset).  Nothing is
    # rescued from EGE alone then, and what is kept is called doubtful.
    split = float(((p_ege > THRESHOLD) & (p_u2 <= THRESHOLD)).mean()) >= MODELS_SPLIT
    if split:
        doubt = "the two sky models disagree over most of the frame (underwater, a backdrop?)"
        reason = f"{reason}; {doubt}" if reason else doubt
    if small is not None:
        if not split:
            p = _sky_only_ege_saw(p, p_ege, small)
        p = water_below_horizon(p, small, THRESHOLD, edges=edges)
        if window_panes(p > THRESHOLD):
            p = np.minimum(p, THRESHOLD - 0.01)
            panes = "bright window panes of a room"
            reason = f"{reason}; {panes}" if reason else f"not counted: {panes}"
        elif reason is None and n > 1 and _blue_to_bottom(p > THRESHOLD):
            # Kept (a bird against an open sky fills the frame the same way) but said:
            # underwater blue and a blue studio backdrop (mate_Aqua, 90 %) look like this.
            reason = "a blue area fills the frame down to its bottom edge (water or a backdrop?)"
    return p.astype(np.float32), reason


def _blue_to_bottom(hard: np.ndarray) -> bool:
    """True when sky covers more than BOTTOM_EDGE of the frame's bottom rows (only a
    clear blue region is left there: _backdrop_to_bottom dropped the others)."""
    rows = max(1, round(hard.shape[0] * BOTTOM_ROWS))
    return float(hard[-rows:].mean()) > BOTTOM_EDGE


BLUE = 0.15  # mean blue above red by this much (and above green): a clear blue sky
TOP_TOUCH = 0.05  # of the top row: the region reaches the frame's top edge


MODELS_SPLIT = 0.4  # of the frame: EGE's sky that U²-Netp rules out; this much, and the sky is doubtful
BAND_TOP = 0.5  # of the top row: a band of sky along the frame's top edge
BAND_AREA = 0.05  # of the frame
BAND_EGE = 0.95  # EGE's mean over it: sure
BAND_TEXTURE = 0.1  # brightness spread (std of the sRGB mean) above the plain walls' 0.011-0.075


def _sky_only_ege_saw(p: np.ndarray, p_ege: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Keep the regions at the top of the frame that EGE calls sky and the fusion lost,
    when they are one of two skies U²-Netp is known to miss:

    * **clear blue sky through foliage**: U²-Netp misses blue sky seen through leaves
      (a dragonfly on ivy against a deep blue sky: 0.2 % sky before this rule, 12 %
      after).  EGE's own false skies are bright neutral walls and ceilings and blue
      *water*; a strongly blue region that reaches the top edge of the frame is
      neither.  Measured: no change at all on the ADE20K, CamVid and hard-case pairs
      (keeping blue EGE regions anywhere cost ADE20K 0.003-0.011 IoU: water).
    * **a clouded, warm sky along the top edge**: U²-Netp hardly knows sunset and dusk
      skies (the hard-case city skyline: 0.0-0.3 over its whole sky, by the photo's
      size) while EGE is sure (0.99).  A region EGE is sure of, running along the top
      edge, large, and textured (clouds, the sun's glow) is kept; EGE's false skies
      that are not blue - walls, ceilings, backdrops - are plain (sky_context.WALL_PLAIN).
    """
    lost = ((p_ege > THRESHOLD) & (p <= THRESHOLD)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lost, connectivity=8)
    lum = small.mean(axis=2)
    for k in range(1, n):
        area = stats[k, cv2.CC_STAT_AREA]
        if area < 4 * MIN_REGION * lost.size or stats[k, cv2.CC_STAT_TOP] > 0:
            continue
        m = labels == k
        top = m[0].mean()
        r, g, b = small[m].mean(0)
        blue = top >= TOP_TOUCH and b - r > BLUE and b > g
        clouded = (area >= BAND_AREA * lost.size and top >= BAND_TOP and p_ege[m].mean() >= BAND_EGE
                   and lum[m].std() >= BAND_TEXTURE)
        if blue or clouded:
            p = np.where(m, np.maximum(p, p_ege), p)
    return p


DISAGREE = 0.1  # a region's mean probability under the other model below this: dropped
DISAGREE_MIN_AREA = 0.01
DARK_SKY = 0.12  # mean sRGB of a region below this is not a (day) sky
TINT = 0.06  # green above both red and blue, or both red and blue above green, by this much


def _region_colours(small: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Mean sRGB of each labelled region (n x 3)."""
    flat = labels.ravel()
    counts = np.maximum(np.bincount(flat, minlength=n), 1)
    mean = np.stack([np.bincount(flat, weights=small[..., c].ravel(), minlength=n) for c in range(3)], 1)
    return mean / counts[:, None]


def _colour_veto(mean: np.ndarray) -> np.ndarray:
    """Per region (``mean``: its sRGB colour, n x 3): too dark, green or magenta for a sky."""
    r, g, b = mean[:, 0], mean[:, 1], mean[:, 2]
    dark = mean.mean(1) < DARK_SKY
    green = g > np.maximum(r, b) + TINT
    magenta = np.minimum(r, b) > g + TINT
    return dark | green | magenta


BOTTOM_EDGE = 0.3  # of the frame's bottom rows: a "sky" this wide there has no horizon below it
BOTTOM_ROWS = 1 / 96  # the bottom band checked, as a share of the height (4 rows at 384)


def _backdrop_to_bottom(colours: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Regions that run down to the frame's bottom edge over a wide stretch and are not
    clear blue: a defocused backdrop or a plain surface, not a sky.

    A sky ends at a horizon (land, water, buildings) below it; both models also take the
    white out-of-focus backdrop of a close-up (the nuthatch on a trunk: 57 % "sky") and a
    book page under flowers (41 %) for sky, and those fill the frame to its bottom edge.
    A clear blue region keeps its sky (a bird against an open blue sky fills the frame
    the same way).  Measured: no change on the ADE20K, CamVid and hard-case pairs at 0.3
    (one hard case, a phone photo looking up, has 16 % of its bottom rows "sky").
    The price: an overcast or white sky that fills the frame to its bottom edge is lost.
    """
    rows = max(1, round(labels.shape[0] * BOTTOM_ROWS))
    bottom = np.bincount(labels[-rows:].ravel(), minlength=n) / (rows * labels.shape[1])
    wide = bottom > BOTTOM_EDGE
    if not wide[1:].any():
        return wide
    r, g, b = colours.T
    blue = (b - r > BLUE) & (b > g)
    return wide & ~blue


def model_version() -> str:
    """Fusion version + both models' versions (the kind's registered models): the
    version a sky raster is cached under."""
    return kind_version("sky")


def sky_alpha(image: np.ndarray, *, refine: bool = True, probs=None,
              inp: MaskInput | None = None) -> tuple[np.ndarray, float]:
    """Full-resolution sky matte of an sRGB float image, and the sky fraction.

    ``probs`` = (U²-Netp, EGE) probabilities when the caller already has them.
    ``inp`` (the mask input the image came from) enables the portrait-backdrop
    rule, which asks the people module (cached per input) about the subject.
    """
    alpha, fraction, _ = _sky(image, refine=refine, probs=probs, inp=inp)
    return alpha, fraction


def _sky(image, *, refine=True, probs=None, inp=None) -> tuple[np.ndarray, float, str | None]:
    h, w = image.shape[:2]
    none = np.zeros((h, w), np.float32)
    # What needs the photo but neither model - the refinement's guide, the horizon rule's
    # edges, the portrait gate's face detection - is done while U²-Netp runs (the same
    # results as computed after it; the face detection is wasted on the rare photo
    # whose sky the rules remove).
    early: dict = {}

    def meanwhile(small: np.ndarray) -> None:
        early["small"] = small
        if refine:
            early["guide"] = RefineGuide(image, work_edge=REFINE_EDGE)
            early["guide"].statistics()
        early["edges"] = level_edges(small)
        if inp is not None:
            early["close_up"] = close_up_face(inp.image)

    p_u2, p_ege = probs if probs is not None else sky_probabilities(image, lazy=True, meanwhile=meanwhile)
    if p_u2 is None or no_sky_at_all(p_ege):
        return none, 0.0, "no sky in this photo"
    small = early["small"] if "small" in early else model_size(image)
    p, removed = fuse_with_reason(p_u2, p_ege, small=small, edges=early.get("edges"))
    found = float((p > THRESHOLD).mean())
    if found < MIN_FOUND:
        return none, 0.0, f"no sky: {removed.removeprefix('not counted: ')}" if removed else "no sky in this photo"
    if inp is not None and portrait_backdrop(inp, found, early.get("close_up")):
        return none, 0.0, "no sky: the backdrop behind a portrait"
    if refine:
        alpha = refine_alpha(image, p, work_edge=REFINE_EDGE, uncertain=UNCERTAIN, prepared=early.get("guide"))
    else:
        alpha = cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR)
    # Sky is left, but a context rule took a large part away: say so ("doubtful").
    return alpha, float((alpha > 0.5).mean()), f"doubtful sky: {removed}" if removed else None


PORTRAIT_FACE = 0.15  # a face at least this share of the frame's height: a close-up portrait
_FACE_GATE_SIZE = 256


def portrait_backdrop(inp: MaskInput, sky_fraction: float, close_up: bool | None = None) -> bool:
    """True when the "sky" is the backdrop behind a close-up portrait.

    Both sky models take a plain blue studio backdrop for sky (the Grace Hopper
    portrait).  A close-up portrait - a confirmed face at least PORTRAIT_FACE of
    the frame's height - shot against less "sky" than the person covers is far more
    often a backdrop than open sky; a head against a wide sky keeps it.  Cost: one
    face detection at 256 px (a few ms); the people analysis (cached per input and
    shared with the people kinds) runs only when that finds a large face, so a
    detector's false face on rocks is confirmed or dropped by the people module.
    ``close_up``: ``close_up_face(inp.image)`` when the caller has it already.
    """
    if not (close_up_face(inp.image) if close_up is None else close_up):
        return False
    big_face = any(p.face_box is not None and (p.face_box[3] - p.face_box[1]) >= PORTRAIT_FACE
                   for p in detect_people(inp))
    if not big_face:
        return False
    return sky_fraction < all_people_alpha(inp).score


def close_up_face(image: np.ndarray) -> bool:
    """True when one face detection at 256 px finds a face at least PORTRAIT_FACE of the
    frame's height (the first test of ``portrait_backdrop``)."""
    h, w = image.shape[:2]
    s = min(1.0, _FACE_GATE_SIZE / max(h, w))
    small = cv2.resize(image.astype(np.float32, copy=False), (max(1, round(w * s)), max(1, round(h * s))),
                       interpolation=cv2.INTER_AREA)
    dets = detect_faces(small, tiled=False, try_rotations=False)
    return any((d.box[3] - d.box[1]) >= PORTRAIT_FACE * small.shape[0] for d in dets)


@register("sky", model=(MODEL_U2, MODEL_EGE), model_version=FUSION_VERSION)
def sky(inp: MaskInput, comp: MaskComponent) -> MaskResult:
    alpha, fraction, reason = _sky(inp.image, refine=bool(comp.params.get("refine", True)), inp=inp)
    info = {"sky_fraction": fraction}
    if reason:
        info["reason"] = reason
    return MaskResult(
        alpha=alpha,
        found=fraction > 0,
        score=fraction,
        model=f"{MODEL_U2}+{MODEL_EGE}",
        model_version=model_version(),
        info=info,
    )
