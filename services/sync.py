"""Series, sync, review and watch-folder use cases (``maskroom series|sync|review|watch``
and the app's sync dialog, review list and watch-folder controller)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from maskroom.catalog import Catalog, edits
from maskroom.core.errors import InvalidValue
from maskroom.core.progress import Progress
from maskroom.engine.series import detect as series_detect
from maskroom.engine.series import edit as series_edit
from maskroom.engine.series.edit import SeriesError
from maskroom.engine.sync import review
from maskroom.engine.sync.engine import (
    SyncError,
    SyncOptions,
    SyncReport,
    resolve_source,
    run_sync,
    series_targets,
)
from maskroom.engine.watch import (
    WATCH_MODES,
    FolderWatcher,
    WatchOptions,
    watch_command,
    watch_options,
)
from maskroom.services.editing import image_of_version
from maskroom.services.library import select_ids

__all__ = ["SeriesError", "SyncError", "SyncReport", "WATCH_MODES", "FolderWatcher", "WatchOptions",
           "watch_command", "watch_options", "SYNC_PARTS"]

SYNC_PARTS = (
    ("adjustments", "Global adjustments", True),
    ("masks", "Masks and their adjustments (AI masks re-derived on each photo)", True),
    ("crop", "Crop and straighten", False),
    ("raw", "RAW decoding settings", False),
)


# -- series ------------------------------------------------------------------------------------
def detect_series(catalog: Catalog, gap: str | float = series_detect.DEFAULT_GAP, progress: Progress | None = None):
    """Group frames into series (bursts, brackets); GAP like '30s' or '2m'."""
    try:
        seconds = series_detect.parse_gap(gap)
    except ValueError as exc:
        raise InvalidValue(f"--gap: {exc}") from None
    return series_detect.detect_series(catalog, gap=seconds, progress=progress)


def list_series(catalog: Catalog):
    return series_detect.list_series(catalog)


def merge_series(catalog: Catalog, a: int, b: int) -> int:
    return series_edit.merge(catalog, a, b)


def split_series(catalog: Catalog, series_id: int, at_image: int) -> int:
    return series_edit.split(catalog, series_id, at_image)


def set_auto_sync(catalog: Catalog, series_id: int, on: bool, source_image: int | None = None) -> bool:
    """Auto-sync on/off; returns False when it is on but the series has no source edit yet."""
    version_id = None
    if source_image is not None:
        with catalog.session() as s:
            version_id = edits.get_version(s, source_image).id
    series_edit.set_auto_sync(catalog, series_id, on, version_id)
    info = next((x for x in series_detect.list_series(catalog) if x.id == series_id), None)
    return not (on and info is not None and info.source_version_id is None)


def series_members(catalog: Catalog, image_id: int) -> list[int]:
    """The other images of the image's series (what "sync to series" targets)."""
    return series_targets(catalog, image_id)[1]


# -- sync ----------------------------------------------------------------------------------------
def parse_options(what: str | Sequence[str], layers: str | Sequence[str] | None = None,
                  mode: str = "replace") -> SyncOptions:
    split = lambda v: tuple(x.strip() for x in (v.split(",") if isinstance(v, str) else v) if x.strip())  # noqa: E731
    return SyncOptions(what=split(what), layers=split(layers) if layers else None, mode=mode)


def sync_edit(catalog: Catalog, source: str | int, *, to_ids: Sequence[int] = (), series: bool = False,
              filters: Sequence[str] = (), options: SyncOptions, dry_run: bool = False, jobs: int = 1,
              progress: Progress | None = None, cluster: str | None = None) -> SyncReport:
    """``maskroom sync``: carry SOURCE's edit (image id, or vN for a version) to the
    targets; AI masks are re-derived on each."""
    image_id, version_id = resolve_source(catalog, source)
    targets = list(to_ids)
    series_id = None
    if series:
        series_id, members = series_targets(catalog, image_id)
        if series_id is None:
            raise SyncError(f"image {image_id} is in no series: run `maskroom series` first, or name targets with --to")
        targets += members
    if filters:
        targets += select_ids(catalog, (), filters)
    targets = [t for t in dict.fromkeys(targets) if t != image_id]
    if not targets:
        raise SyncError("no targets: name them with --to ID, --series or --filter")
    return run_sync(catalog, image_id, targets, source_version_id=version_id, options=options,
                    dry_run=dry_run, jobs=max(1, jobs), progress=progress, remember_series=series_id, cluster=cluster)


def review_items(report: SyncReport) -> list[dict]:
    """What a sync needs a look at: [{image_id, version_id, layer, reason, confidence}]."""
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


def sync(catalog: Catalog, source_version_id: int, target_image_ids: Sequence[int], what: Sequence[str],
         mode: str, progress: Progress) -> list[dict]:
    """The app's sync: the chosen parts of a version's edit to each target's master; returns
    what needs a look (review_items)."""
    report = run_sync(catalog, image_of_version(catalog, source_version_id), list(target_image_ids),
                      source_version_id=source_version_id, options=SyncOptions(what=tuple(what), mode=mode),
                      progress=progress)
    return review_items(report)


# -- review ----------------------------------------------------------------------------------------
def list_review(catalog: Catalog, include_resolved: bool = False) -> list[dict]:
    return review.list_items(catalog, include_resolved=include_resolved)


def resolve_review(catalog: Catalog, item_id: int) -> None:
    review.resolve(catalog, item_id)


# -- watch folders ----------------------------------------------------------------------------------
def make_watcher(catalog: Catalog, dirs: Sequence[Path], options: WatchOptions,
                 log: Callable[[str], None]) -> FolderWatcher:
    """A watcher over DIRS; a named develop preset must exist."""
    if options.preset:
        with catalog.session() as s:
            edits.get_preset(s, options.preset)
    return FolderWatcher(catalog, list(dirs), options, log=log)
