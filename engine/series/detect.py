"""Grouping a catalog's images into series (bursts, brackets, a sitting).

Two consecutive frames (ordered by capture time) of the same camera body and lens
belong to one series when they are at most ``gap`` seconds apart AND look alike
(pHash + colour/structure features, see ``features.py``).  The visual test compares
a new frame with the last few frames of the current group, so one odd frame (a flash
misfire, a hand in front of the lens) does not cut a burst in two.  The features are
exposure-normalised, so a bracketed set (-2/0/+2 EV) stays one series.

Detection is idempotent and keeps what a person decided: images in a *locked*
series (hand merged/split) are never regrouped, and an existing series keeps its id,
name, auto-sync flag and source edit when its members are found again.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from maskroom.catalog.schema import Image, Series
from maskroom.core.progress import Progress
from maskroom.engine.imageio.previews import load_thumbnail
from maskroom.engine.series.features import compute_features, similarity

DEFAULT_GAP = 30.0
# Below this visual similarity two frames are different scenes (unrelated photos
# score ~0.0-0.1; the same scene shifted/bracketed scores 0.55-0.95).
MIN_SIMILARITY = 0.3
LOOKBACK = 3


@dataclass
class _Frame:
    id: int
    time: datetime | None
    body: tuple
    lens: str
    phash: str | None
    features: bytes | None
    series_id: int | None
    filename: str


@dataclass
class SeriesInfo:
    id: int
    name: str
    image_ids: list[int] = field(default_factory=list)
    auto_sync: bool = False
    locked: bool = False
    source_version_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "count": len(self.image_ids), "image_ids": self.image_ids,
                "auto_sync": self.auto_sync, "locked": self.locked, "source_version_id": self.source_version_id,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None}


def parse_gap(text: str | float | int) -> float:
    """'30s', '2m', '1.5', 45 -> seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    t = str(text).strip().lower()
    mult = 1.0
    if t.endswith("ms"):
        t, mult = t[:-2], 0.001
    elif t.endswith("s"):
        t = t[:-1]
    elif t.endswith("m"):
        t, mult = t[:-1], 60.0
    elif t.endswith("h"):
        t, mult = t[:-1], 3600.0
    try:
        value = float(t) * mult
    except ValueError:
        raise ValueError(f"gap must look like 30s, 2m or 1.5 (seconds), not {text!r}") from None
    if value < 0:
        raise ValueError(f"gap must be >= 0, not {text!r}")
    return value


def fill_features(catalog, image_ids=None, progress: Progress | None = None) -> int:
    """Compute phash/features for images that lack them (older imports); returns how many."""
    progress = progress or Progress()
    with catalog.session() as s:
        q = select(Image).where(Image.phash.is_(None), Image.missing.is_(False))
        if image_ids is not None:
            q = q.where(Image.id.in_(list(image_ids)))
        todo = list(s.scalars(q))
        for img in todo:
            s.expunge(img)
    done = 0
    for img in todo:
        try:
            rgb = load_thumbnail(catalog, img)
        except Exception as exc:  # unreadable original: no features, detection uses time/camera only
            progress.message(f"{img.path}: no series features ({exc})")
            continue
        phash, feats = compute_features(rgb)
        with catalog.session() as s:
            row = s.get(Image, img.id)
            if row is not None:
                row.phash, row.features = phash, feats
        done += 1
    return done


def _same_look(frame: _Frame, group: list[_Frame], min_similarity: float) -> bool:
    return any(
        similarity(frame.phash, frame.features, g.phash, g.features) >= min_similarity
        for g in group[-LOOKBACK:]
    )


def group_frames(frames: list[_Frame], gap: float = DEFAULT_GAP,
                 min_similarity: float = MIN_SIMILARITY) -> list[list[_Frame]]:
    """Pure grouping (no database): lists of frames, each of two or more."""
    timed = [f for f in frames if f.time is not None]
    timed.sort(key=lambda f: (f.body, f.lens, f.time, f.filename, f.id))
    groups: list[list[_Frame]] = []
    current: list[_Frame] = []
    def near(a: _Frame, b: _Frame) -> bool:
        return a.body == b.body and a.lens == b.lens and (b.time - a.time).total_seconds() <= gap

    for i, f in enumerate(timed):
        if current:
            prev = current[-1]
            if near(prev, f):
                if _same_look(f, current, min_similarity):
                    current.append(f)
                    continue
                # One odd frame (flash misfire, a hand in front) between look-alikes stays in.
                nxt = timed[i + 1] if i + 1 < len(timed) else None
                if nxt is not None and near(f, nxt) and _same_look(nxt, current, min_similarity):
                    current.append(f)
                    continue
            groups.append(current)
        current = [f]
    if current:
        groups.append(current)
    return [g for g in groups if len(g) >= 2]


def _frames(session) -> tuple[list[_Frame], set[int]]:
    locked = set(session.scalars(select(Series.id).where(Series.locked.is_(True))))
    rows = session.execute(select(
        Image.id, Image.capture_time, Image.camera_make, Image.camera_model, Image.lens, Image.phash,
        Image.features, Image.series_id, Image.filename,
    ).where(Image.missing.is_(False)))
    frames = []
    for r in rows:
        if r.series_id is not None and r.series_id in locked:
            continue
        frames.append(_Frame(r.id, r.capture_time, ((r.camera_make or "").strip().lower(),
                                                    (r.camera_model or "").strip().lower()),
                             (r.lens or "").strip().lower(), r.phash, r.features, r.series_id, r.filename or ""))
    return frames, locked


def _name(group: list[_Frame]) -> str:
    t = group[0].time
    return f"{t:%Y-%m-%d %H:%M:%S} ({len(group)})" if t else f"series ({len(group)})"


def detect_series(catalog, *, gap: float = DEFAULT_GAP, min_similarity: float = MIN_SIMILARITY,
                  progress: Progress | None = None) -> list[SeriesInfo]:
    """Regroup the unlocked images into series, store them; returns every series."""
    fill_features(catalog, progress=progress)
    with catalog.session() as s:
        frames, locked = _frames(s)
        groups = group_frames(frames, gap, min_similarity)
        unlocked = {sr.id: sr for sr in s.scalars(select(Series).where(Series.locked.is_(False)))}
        used: set[int] = set()
        assignment: dict[int, int | None] = {f.id: None for f in frames}
        # Biggest groups pick first: an existing series keeps its id where most of its members went.
        for group in sorted(groups, key=len, reverse=True):
            votes = Counter(f.series_id for f in group if f.series_id in unlocked and f.series_id not in used)
            if votes:
                sid = votes.most_common(1)[0][0]
                series = unlocked[sid]
                if series.name.endswith(")") and series.name[:1].isdigit():
                    series.name = _name(group)  # auto names follow the member count
            else:
                series = Series(name=_name(group))
                s.add(series)
                s.flush()
                sid = series.id
            used.add(sid)
            for f in group:
                assignment[f.id] = sid
        before = {f.id: f.series_id for f in frames}
        for fid, sid in assignment.items():
            if sid != before[fid]:
                s.get(Image, fid).series_id = sid
        s.flush()
        for sid, series in unlocked.items():
            if sid not in used:
                s.delete(series)
    return list_series(catalog)


def list_series(catalog) -> list[SeriesInfo]:
    with catalog.session() as s:
        out = []
        for sr in s.scalars(select(Series).order_by(Series.id)):
            members = s.execute(select(Image.id, Image.capture_time).where(Image.series_id == sr.id)
                                .order_by(Image.capture_time, Image.filename, Image.id)).all()
            times = [m.capture_time for m in members if m.capture_time]
            out.append(SeriesInfo(sr.id, sr.name, [m.id for m in members], bool(sr.auto_sync), bool(sr.locked),
                                  sr.source_version_id, min(times) if times else None, max(times) if times else None))
        return out


def series_members(session, series_id: int) -> list[int]:
    return list(session.scalars(select(Image.id).where(Image.series_id == series_id)
                                .order_by(Image.capture_time, Image.filename, Image.id)))


def assign_new_images(catalog, image_ids, *, gap: float = DEFAULT_GAP,
                      min_similarity: float = MIN_SIMILARITY) -> dict[int, int]:
    """Put newly imported images into series (full, idempotent regroup); {image_id: series_id}."""
    detect_series(catalog, gap=gap, min_similarity=min_similarity)
    ids = list(image_ids)
    with catalog.session() as s:
        rows = s.execute(select(Image.id, Image.series_id).where(Image.id.in_(ids))).all()
    return {r.id: r.series_id for r in rows if r.series_id is not None}
