"""The sync job: one source edit carried to many target frames.

For each target: align the source frame to it, build the target's new recipe
(``what``: adjustments, masks, crop, raw; ``mode``: replace or merge; optional layer
subset), re-derive the AI components on the target's own pixels (through the mask
raster cache, so the target renders from what sync derived), score every component,
and write the recipe + review flags in ONE transaction.  A target whose file cannot
be read fails alone before anything is written: a killed or failing sync leaves each
target fully synced or untouched.

Idempotent: synced component uids are derived from (source uid, target image), and a
target whose new recipe equals its current one (derived state ignored) is not saved,
so a second sync adds no history step.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from maskroom.catalog import edits
from maskroom.catalog.schema import EditVersion, Image, Series
from maskroom.core.errors import InvalidValue
from maskroom.core.progress import Progress
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.executor import Work, make_executor
from maskroom.engine.mask_refresh import mask_input
from maskroom.engine.masks.cache import CachedResolver
from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.registry import warning
from maskroom.engine.series.detect import assign_new_images, series_members
from maskroom.engine.sync import review
from maskroom.engine.sync.align import Aligner, Alignment, warp_alpha
from maskroom.engine.sync.follow import FOLLOWED_KINDS, follow_object
from maskroom.engine.sync.follow import planes as follow_planes
from maskroom.engine.sync.transfer import PERSON_KINDS, carry_geometry, match_person, people_of, rule_for

WHAT = ("adjustments", "masks", "crop", "raw")
DEFAULT_WHAT = ("adjustments", "masks")
MODES = ("replace", "merge")
CROP_KEYS = ("crop", "straighten", "aspect")
ALIGN_EDGE = 1024  # frames are aligned on images of this long edge


class SyncError(InvalidValue):
    pass


@dataclass
class SyncOptions:
    what: tuple[str, ...] = DEFAULT_WHAT
    layers: tuple[str, ...] | None = None
    mode: str = "replace"

    def __post_init__(self):
        self.what = tuple(self.what)
        bad = [w for w in self.what if w not in WHAT]
        if bad:
            raise SyncError(f"--what: unknown part {bad[0]!r} (known: {', '.join(WHAT)})")
        if self.mode not in MODES:
            raise SyncError(f"--mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.layers is not None:
            self.layers = tuple(self.layers)

    def to_dict(self) -> dict:
        return {"what": list(self.what), "layers": list(self.layers) if self.layers else None, "mode": self.mode}

    @classmethod
    def from_dict(cls, d: dict | None) -> SyncOptions:
        d = d or {}
        return cls(what=tuple(d.get("what") or DEFAULT_WHAT), layers=d.get("layers"), mode=d.get("mode", "replace"))


@dataclass
class ComponentResult:
    layer: str
    kind: str
    uid: str
    rule: str  # move | rederive | recompute
    confidence: float
    area: float | None = None
    flag: str | None = None
    own_move: list[float] | None = None  # [dx, dy] of the frame: the thing moved across it on its own (follow.py)


@dataclass
class TargetResult:
    image_id: int
    version_id: int | None = None
    status: str = "pending"  # synced | unchanged | would-sync | failed | skipped
    error: str | None = None
    alignment: dict = field(default_factory=dict)
    components: list[ComponentResult] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU seconds this target took (its process), for benchmarks

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SyncReport:
    source_image_id: int
    source_version_id: int
    targets: list[TargetResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for t in self.targets if t.status == status)

    @property
    def flagged(self) -> int:
        return sum(1 for t in self.targets for c in t.components if c.flag)

    def to_dict(self) -> dict:
        return {"source_image_id": self.source_image_id, "source_version_id": self.source_version_id,
                "synced": self.count("synced"), "unchanged": self.count("unchanged"),
                "failed": self.count("failed"), "flagged": self.flagged,
                "targets": [t.to_dict() for t in self.targets]}


# -- the source side ---------------------------------------------------------

@dataclass
class _Source:
    image_id: int
    version_id: int
    recipe: Recipe
    layers: list[Layer]
    inp: object  # MaskInput
    aligner: Aligner  # the source frame's features, found once
    alphas: dict[str, np.ndarray]  # component uid -> finished source alpha (for scoring)
    results: dict[str, object]  # component uid -> MaskResult (AI kinds)

    @functools.cached_property
    def follow_planes(self) -> list[np.ndarray]:
        """The source frame's planes for ``follow_object``: made once for every target."""
        return follow_planes(self.inp.image)


def _mask_input(catalog, image_id: int, settings: dict):
    """The pixels an image's masks derive from, decoded with the RAW settings its recipe
    will have: the render derives from the same pixels, so it finds the rasters stored
    here instead of deriving them again."""
    return mask_input(catalog, image_id, settings=settings)


def _small(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = ALIGN_EDGE / max(h, w)
    if s >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def _selected_layers(recipe: Recipe, options: SyncOptions) -> list[Layer]:
    if "masks" not in options.what:
        return []
    masked = [layer for layer in recipe.layers[1:] if layer.mask is not None]
    if options.layers:
        names = {x.strip() for x in options.layers}
        missing = names - {layer.name for layer in masked}
        if missing:
            raise SyncError(f"source has no masked layer named {sorted(missing)[0]!r}")
        masked = [layer for layer in masked if layer.name in names]
    return masked


def prepare_source(catalog, image_id: int, version_id: int | None, options: SyncOptions) -> _Source:
    with catalog.session() as s:
        if s.get(Image, image_id) is None:
            raise SyncError(f"source image {image_id} does not exist")
        version = edits.get_version(s, image_id, version_id)
        recipe = edits.load_recipe(s, version.id)
        vid = version.id
    layers = _selected_layers(recipe, options)
    inp = _mask_input(catalog, image_id, recipe.settings)
    alphas, results = {}, {}
    resolver = CachedResolver(catalog, vid)
    for layer in layers:
        for comp in layer.mask.components:
            res = resolver(inp, comp) if comp.is_ai else derive(inp, comp)
            alphas[comp.uid] = res.alpha
            if comp.is_ai:
                results[comp.uid] = res
    return _Source(image_id, vid, recipe, layers, inp, Aligner(_small(inp.image)), alphas, results)


# -- one target ---------------------------------------------------------------

def synced_uid(source_uid: str, target_image_id: int) -> str:
    return hashlib.sha1(f"{source_uid}:{target_image_id}".encode()).hexdigest()[:16]


def _area(alpha: np.ndarray) -> float:
    return float((alpha >= 0.5).mean()) if alpha.size else 0.0


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    ma, mb = a >= 0.5, b >= 0.5
    union = np.logical_or(ma, mb).sum()
    return float(np.logical_and(ma, mb).sum() / union) if union else 1.0


def _score_ai(src_alpha: np.ndarray, res, al: Alignment, shape) -> tuple[float, float, str | None]:
    """(confidence, target area, flag reason or None) of a re-derived AI component."""
    moved = warp_alpha(src_alpha, al, shape)
    a_src, a_tgt = _area(moved), _area(res.alpha)
    if a_src < review.MIN_AREA and a_tgt < review.MIN_AREA:
        return 1.0, a_tgt, None  # nothing on the source, nothing on the target: consistent
    if not res.found or a_tgt < review.MIN_AREA:
        return 0.0, a_tgt, "nothing found on this frame (the source had it)"
    ratio = min(a_src, a_tgt) / max(a_src, a_tgt) if max(a_src, a_tgt) > 0 else 1.0
    iou = _overlap(moved, res.alpha)
    # Model scores differ in meaning between kinds (a probability, an area): they are
    # reported, not mixed in; confidence is agreement with the source mask moved here.
    conf = 0.5 * iou + 0.5 * ratio
    conf *= 0.75 + 0.25 * min(1.0, al.quality * 2)
    flag = None
    if ratio < review.MIN_AREA_RATIO or iou < review.MIN_OVERLAP:
        flag = f"large jump: area x{a_tgt / max(a_src, 1e-9):.2f}, overlap {iou:.2f} with the source mask moved here"
    return float(conf), a_tgt, flag


def _person_index(src: _Source, comp: MaskComponent, carried: MaskComponent, tinp, al: Alignment):
    """Re-choose the person index on the target: (index, match score) or (None, 1) when not a person prompt."""
    if comp.kind not in PERSON_KINDS or comp.params.get("person") is None:
        return None, 1.0
    src_res = src.results.get(comp.uid)
    src_people = people_of(getattr(src_res, "info", None))
    if src_res is None or not src_people:
        probe = copy.deepcopy(comp)
        src_people = people_of(derive(src.inp, probe).info)
    idx = int(comp.params["person"])
    if idx >= len(src_people):
        return None, 0.0
    probe = copy.deepcopy(carried)
    probe.params.pop("person", None)
    tgt_people = people_of(derive(tinp, probe).info)
    return match_person(src_people[idx], tgt_people, al)


def _carry_layer(src: _Source, layer: Layer, target_id: int, tinp, frame_al: Alignment, resolver,
                 derive_ai: bool, target_planes: Callable[[], list]) -> tuple[Layer, list[ComponentResult]]:
    comps, results = [], []
    for comp in layer.mask.components:
        rule = rule_for(comp.kind)
        al, own_move = frame_al, None
        if comp.kind in FOLLOWED_KINDS and comp.uid in src.alphas:
            # An object prompt follows the thing itself, which may have moved across the
            # frame between shots; everything below (prompt, score) uses its move.
            thing, found = follow_object(src.follow_planes, src.alphas[comp.uid], target_planes(), frame_al)
            if thing is not frame_al:
                al, own_move = thing, found
        carried = carry_geometry(comp, al)
        carried.uid = synced_uid(comp.uid, target_id)
        flag, conf, area = None, 1.0, None
        if rule == "move":
            conf = float(min(1.0, 0.5 + al.quality))
            if al.quality < review.MIN_ALIGN_QUALITY:
                flag = f"frames could not be aligned ({al.method}): geometry left where it was"
        elif rule == "rederive" and derive_ai:
            idx, match = _person_index(src, comp, carried, tinp, al)
            if comp.kind in PERSON_KINDS and comp.params.get("person") is not None:
                if idx is None or match < review.MIN_PERSON_MATCH:
                    flag = "the same person was not found on this frame"
                else:
                    carried.params["person"] = int(idx)
            res = resolver(tinp, carried)
            conf, area, jump = _score_ai(src.alphas[comp.uid], res, al, tinp.shape)
            # An empty or doubtful result says why, even where the source was empty too.
            flag = flag or jump or warning(carried.kind, res)
        elif rule == "recompute" and derive_ai and comp.kind != "all":
            # Cheap: evaluated here only to score it (renders evaluate it again).
            conf, area, flag = _score_ai(src.alphas[comp.uid], derive(tinp, carried), al, tinp.shape)
        carried.derived = {**(carried.derived or {}),
                           "sync": {"source_uid": comp.uid, "confidence": round(conf, 4), "rule": rule,
                                    **({"own_move": own_move} if own_move else {})}}
        comps.append(carried)
        results.append(ComponentResult(layer.name, comp.kind, carried.uid, rule, round(conf, 4),
                                       None if area is None else round(area, 5), flag,
                                       own_move["shift"] if own_move else None))
    new = Layer(layer.name, layer.enabled, layer.opacity, dict(layer.adjustments), MaskDefinition(comps))
    return new, results


def _synced_settings(current: Recipe, src: _Source, options: SyncOptions) -> dict:
    """The target's settings (crop, RAW) after the sync."""
    settings = copy.deepcopy(current.settings)
    for part, keys in (("crop", CROP_KEYS), ("raw", ("raw",))):
        if part in options.what:
            for k in keys:
                if k in src.recipe.settings:
                    settings[k] = copy.deepcopy(src.recipe.settings[k])
                elif options.mode == "replace":
                    settings.pop(k, None)
    return settings


def _build_recipe(current: Recipe, src: _Source, carried: list[Layer], options: SyncOptions) -> Recipe:
    new = current.copy()
    srcr = src.recipe
    if "adjustments" in options.what:
        if options.mode == "replace":
            new.layers[0].adjustments = dict(srcr.global_layer.adjustments)
        else:
            new.layers[0].adjustments.update(srcr.global_layer.adjustments)
    new.settings = _synced_settings(current, src, options)
    if "masks" in options.what:
        names = {layer.name for layer in carried}
        if options.mode == "replace" and not options.layers:
            new.layers = [new.layers[0]] + [x for x in new.layers[1:] if x.mask is None] + carried
        else:
            kept = []
            for x in new.layers[1:]:
                if x.name in names:
                    kept.append(next(c for c in carried if c.name == x.name))
                    names.discard(x.name)
                else:
                    kept.append(x)
            new.layers = [new.layers[0]] + kept + [c for c in carried if c.name in names]
    return new


def _master_version(catalog, image_id: int) -> int:
    with catalog.session() as s:
        if s.get(Image, image_id) is None:
            raise SyncError(f"image {image_id} does not exist")
        return edits.get_version(s, image_id).id


def sync_target(catalog, src: _Source, image_id: int, options: SyncOptions, *, dry_run: bool = False,
                fail_hook=None) -> TargetResult:

    cpu0 = time.process_time()
    out = TargetResult(image_id)
    if image_id == src.image_id:
        out.status = "skipped"
        out.error = "the source itself"
        return out
    try:
        version_id = _master_version(catalog, image_id)
        out.version_id = version_id
        with catalog.session() as s:
            current = edits.load_recipe(s, version_id)
        # An unreadable target fails here, before its recipe is written.
        tinp = _mask_input(catalog, image_id, _synced_settings(current, src, options))
        al = src.aligner(_small(tinp.image))
        out.alignment = {"method": al.method, "quality": round(al.quality, 4), "inliers": al.inliers,
                         "shift": round(al.shift(), 4)}
        resolver = CachedResolver(catalog, version_id)
        target_planes = functools.cache(lambda: follow_planes(tinp.image))  # made once, if an object follows
        carried = []
        for layer in src.layers:
            new_layer, results = _carry_layer(src, layer, image_id, tinp, al, resolver, not dry_run, target_planes)
            carried.append(new_layer)
            out.components.extend(results)
        new = _build_recipe(current, src, carried, options)
        changed = new.digest() != current.digest()
        if dry_run:
            out.status = "would-sync" if changed else "unchanged"
            out.cpu_s = round(time.process_time() - cpu0, 4)
            return out
        flags = [review.Flag(c.layer, c.uid, c.flag, c.confidence) for c in out.components if c.flag]
        with catalog.session() as s:  # the one transaction of this target
            latest = edits.load_recipe(s, version_id)  # locks the version until this commits
            if latest.digest() != current.digest():
                # Edited while the masks were derived (the app, a script): sync onto
                # that edit rather than over it, so its step is not undone.
                new = _build_recipe(latest, src, carried, options)
                changed = new.digest() != latest.digest()
            if changed:
                edits.save_recipe(s, version_id, new, f"Sync from image {src.image_id}")
            if fail_hook is not None:
                fail_hook(image_id)
            review.replace_flags(s, version_id, src.version_id, flags, {c.uid for c in out.components})
        out.status = "synced" if changed else "unchanged"
    except Exception as exc:  # one bad target must not stop the batch
        out.status = "failed"
        out.error = f"{type(exc).__name__}: {exc}" if not str(exc).startswith("/") else str(exc)
    out.cpu_s = round(time.process_time() - cpu0, 4)
    return out


# -- the job ----------------------------------------------------------------

def resolve_source(catalog, source: str | int) -> tuple[int, int | None]:
    """'12' (image id) or 'v34' (edit version id) -> (image id, version id or None)."""
    text = str(source).strip()
    with catalog.session() as s:
        if text.lower().startswith("v") and text[1:].isdigit():
            v = s.get(EditVersion, int(text[1:]))
            if v is None:
                raise SyncError(f"edit version {text[1:]} does not exist")
            return v.image_id, v.id
        if not text.isdigit():
            raise SyncError(f"source must be an image id (or vN for a version), not {text!r}")
        if s.get(Image, int(text)) is None:
            raise SyncError(f"image {text} does not exist")
        return int(text), None


def series_targets(catalog, image_id: int) -> tuple[int | None, list[int]]:
    with catalog.session() as s:
        img = s.get(Image, image_id)
        if img is None or img.series_id is None:
            return None, []
        return img.series_id, [i for i in series_members(s, img.series_id) if i != image_id]


def run_sync(catalog, source_image_id: int, target_ids, *, source_version_id: int | None = None,
             options: SyncOptions | None = None, dry_run: bool = False, jobs: int = 1,
             progress: Progress | None = None, remember_series: int | None = None, fail_hook=None,
             cluster: str | None = None) -> SyncReport:
    options = options or SyncOptions()
    progress = progress or Progress()
    src = prepare_source(catalog, source_image_id, source_version_id, options)
    report = SyncReport(source_image_id, src.version_id)
    ids = list(dict.fromkeys(int(t) for t in target_ids))
    progress.start(len(ids), "Syncing")
    # The fail hook (tests) lives in this process: it runs the batch here.
    parallel = len(ids) > 1 and fail_hook is None
    executor = make_executor(catalog, jobs if parallel else 1, cluster if parallel else None)
    work = Work(_sync_item, catalog.location, _sync_init,
                (source_image_id, src.version_id, options.to_dict(), dry_run),
                local_state=_SyncState(src, options, dry_run, fail_hook))
    results = []
    with executor:
        for out in executor.map(work, ids, progress):
            res = out.value if out.ok else TargetResult(out.item, status="failed", error=_reason(out.error))
            if res.status == "failed":
                progress.message(f"image {res.image_id}: {res.error}")
            progress.advance(1, str(res.image_id))
            results.append(res)
    report.targets = sorted(results, key=lambda r: ids.index(r.image_id))
    if remember_series is not None and not dry_run:
        with catalog.session() as s:
            sr = s.get(Series, remember_series)
            if sr is not None:
                sr.source_version_id = src.version_id
                sr.sync_options = options.to_dict()
    return report


@dataclass
class _SyncState:
    """What a sync worker prepares once: the source (its pixels, features, masks)."""

    src: _Source
    options: SyncOptions
    dry_run: bool
    fail_hook: object = None


def _sync_init(ctx, image_id, version_id, options_dict, dry_run) -> _SyncState:
    opts = SyncOptions.from_dict(options_dict)
    return _SyncState(prepare_source(ctx.catalog, image_id, version_id, opts), opts, dry_run)


def _sync_item(ctx, target_id: int) -> TargetResult:
    st = ctx.state
    return sync_target(ctx.catalog, st.src, target_id, st.options, dry_run=st.dry_run, fail_hook=st.fail_hook)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# -- auto-sync ----------------------------------------------------------------

def auto_sync_new_images(catalog, image_ids, progress: Progress | None = None) -> list[TargetResult]:
    """Give new members of auto-sync series their series' source edit (import/watch call this)."""
    placed = assign_new_images(catalog, image_ids)
    by_series: dict[int, list[int]] = {}
    for iid, sid in placed.items():
        by_series.setdefault(sid, []).append(iid)
    out: list[TargetResult] = []
    for sid, members in by_series.items():
        with catalog.session() as s:
            sr = s.get(Series, sid)
            if sr is None or not sr.auto_sync or sr.source_version_id is None:
                continue
            v = s.get(EditVersion, sr.source_version_id)
            if v is None:
                continue
            src_image, src_version, opts = v.image_id, v.id, SyncOptions.from_dict(sr.sync_options)
        rep = run_sync(catalog, src_image, [m for m in members if m != src_image], source_version_id=src_version,
                       options=opts, progress=progress)
        out.extend(rep.targets)
    return out
