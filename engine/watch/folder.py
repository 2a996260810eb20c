"""Watching folders and importing each photo once it is completely written.

Events (watchdog) only say *where to look*; the decision to import is made by
polling: a file is imported once its size and mtime have not changed for
``settle`` seconds and its name is a final name (not ``.tmp``/``.part``/``~``/lock/
hidden).  A partial file renamed to its final name arrives as a move event for the
final name and settles like any other.  The importer itself dedupes by content
hash, and the watcher remembers (path, size, mtime) it handled, so a file is
imported exactly once however many events it produces.

Robustness: at start (and whenever a watched folder reappears after being deleted
or replaced) the folder is scanned, so files that arrived while not watching are
caught up.  The app's own outputs (the catalog's cache folder, --copy-to, extra
--ignore folders such as export targets) are never imported.
"""
from __future__ import annotations

import os
import queue
import shlex
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from maskroom.catalog import edits
from maskroom.catalog.schema import Image
from maskroom.engine.imageio.formats import is_supported
from maskroom.engine.importer import run_import
from maskroom.engine.importer.scan import is_partial
from maskroom.engine.sync.engine import auto_sync_new_images

LOCK_PREFIXES = ("~$", ".~lock", "~")
LOCK_SUFFIXES = (".lock", ".lck", ".swp", ".tmp", ".part", ".partial", ".crdownload", ".download", "~")


def is_ignored_name(path: Path) -> bool:
    """Names that are never a finished photo: partial downloads, lock files, hidden files."""
    name = path.name.lower()
    if is_partial(path) or name.startswith(LOCK_PREFIXES) or name.endswith(LOCK_SUFFIXES):
        return True
    # "photo.jpg.tmp123" / "photo.jpg.part-1": the last suffix is not a photo's.
    return not is_supported(path)


@dataclass
class WatchOptions:
    recursive: bool = False
    copy_to: Path | None = None
    template: str | None = None
    preset: str | None = None
    auto_sync: bool = False
    settle: float = 2.0  # seconds a file's size+mtime must stay unchanged
    poll: float = 0.25  # seconds between checks
    ignore: list[Path] = field(default_factory=list)


# What a watch does with each new photo, as the app offers it (persisted with the app's
# watch entry) and as `maskroom watch` spells it: "sync" is `--auto-sync`.
WATCH_MODES = {
    "import": "Import new photos only",
    "sync": "Import, then apply their series' sync (auto-sync series give new frames their edit)",
}


def watch_options(mode: str, recursive: bool = True, **kwargs) -> WatchOptions:
    """WatchOptions for a mode of WATCH_MODES (the app's choice)."""
    if mode not in WATCH_MODES:
        raise ValueError(f"watch mode {mode!r}: expected one of {', '.join(WATCH_MODES)}")
    return WatchOptions(recursive=recursive, auto_sync=mode == "sync", **kwargs)


def watch_command(folders, options: WatchOptions) -> str:
    """The `maskroom watch` command line that watches the same way (shown by the app)."""
    parts = ["maskroom", "watch", *(shlex.quote(str(f)) for f in folders)]
    if options.recursive:
        parts.append("--recursive")
    if options.auto_sync:
        parts.append("--auto-sync")
    if options.preset:
        parts += ["--preset", shlex.quote(options.preset)]
    if options.copy_to:
        parts += ["--copy-to", shlex.quote(str(options.copy_to))]
    return " ".join(parts)


@dataclass
class _Pending:
    size: int
    mtime: float
    since: float  # monotonic time of the last change seen


class FolderWatcher:
    def __init__(self, catalog, dirs, options: WatchOptions | None = None,
                 log: Callable[[str], None] = print):
        self.catalog = catalog
        self.dirs = [Path(d).resolve() for d in dirs]
        self.opt = options or WatchOptions()
        self.log = log
        self.events: queue.Queue[Path] = queue.Queue()
        self.pending: dict[Path, _Pending] = {}
        self.handled: dict[Path, tuple[int, float]] = {}
        self.imported: list[int] = []
        self._stop = threading.Event()
        self._observer = None
        self._watches: dict[Path, tuple] = {}  # root -> (watch, (dev, ino))
        ign = [Path(catalog.cache_dir)] + list(self.opt.ignore)
        if self.opt.copy_to:
            ign.append(Path(self.opt.copy_to))
        self._ignored_dirs = [Path(os.path.realpath(p)) for p in ign]

    # -- filters ------------------------------------------------------------
    def _is_ours(self, path: Path) -> bool:
        try:
            real = Path(os.path.realpath(path))
        except OSError:
            return False
        return any(real == d or d in real.parents for d in self._ignored_dirs)

    def wanted(self, path: Path) -> bool:
        if is_ignored_name(path) or self._is_ours(path):
            return False
        return any(path.parent == d or (self.opt.recursive and d in path.parents) for d in self.dirs)

    # -- discovery ----------------------------------------------------------
    def scan(self, root: Path | None = None) -> int:
        """Queue every photo already in the folder(s): catch-up after downtime."""
        n = 0
        for d in [root] if root else self.dirs:
            if not d.is_dir():
                continue
            walker = os.walk(d) if self.opt.recursive else [(str(d), [], [e.name for e in os.scandir(d)])]
            for folder, subdirs, files in walker:
                if self._is_ours(Path(folder)):
                    subdirs[:] = []
                    continue
                for name in files:
                    self.events.put(Path(folder) / name)
                    n += 1
        return n

    def _start_observer(self) -> None:
        from watchdog.observers import Observer  # lazy: watchdog only when a folder is watched

        self._observer = Observer()
        self._observer.start()
        for d in self.dirs:
            self._schedule(d)

    def _schedule(self, root: Path) -> None:
        from watchdog.events import FileSystemEventHandler  # lazy: watchdog only when a folder is watched

        if not root.is_dir():
            return
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                for attr in ("src_path", "dest_path"):
                    p = getattr(event, attr, None)
                    if not p:
                        continue
                    p = Path(os.fsdecode(p))
                    if event.is_directory:
                        # A folder created or moved in: its files may predate the event.
                        if attr == "dest_path" or event.event_type == "created":
                            watcher.events.put(("dir", p))
                    else:
                        watcher.events.put(p)

        try:
            st = root.stat()
            watch = self._observer.schedule(Handler(), str(root), recursive=self.opt.recursive)
        except (OSError, FileNotFoundError) as exc:
            self.log(f"{root}: cannot watch ({exc})")
            return
        self._watches[root] = (watch, (st.st_dev, st.st_ino))

    def _check_roots(self) -> None:
        """Follow a watched folder that was deleted, recreated or replaced."""
        for root in self.dirs:
            try:
                st = root.stat()
                ident = (st.st_dev, st.st_ino) if root.is_dir() else None
            except OSError:
                ident = None
            have = self._watches.get(root)
            if ident is None:
                if have is not None:
                    self.log(f"{root}: folder is gone; waiting for it to come back")
                    self._unschedule(root)
                continue
            if have is None or have[1] != ident:
                if have is not None:
                    self._unschedule(root)
                self.log(f"{root}: watching")
                self._schedule(root)
                self.scan(root)

    def _unschedule(self, root: Path) -> None:
        watch, _ = self._watches.pop(root, (None, None))
        if watch is not None and self._observer is not None:
            try:
                self._observer.unschedule(watch)
            except (KeyError, ValueError, OSError):
                pass

    # -- settling -----------------------------------------------------------
    def _drain(self) -> None:
        now = time.monotonic()
        while True:
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, tuple):  # a new sub folder: its files may predate the watch
                if self.opt.recursive and item[1].is_dir() and not self._is_ours(item[1]):
                    self.scan(item[1])
                continue
            path = item
            if not self.wanted(path):
                continue
            try:
                st = path.stat()
            except OSError:
                self.pending.pop(path, None)
                continue
            key = (st.st_size, st.st_mtime)
            if self.handled.get(path) == key:
                continue
            cur = self.pending.get(path)
            if cur is None or (cur.size, cur.mtime) != key:
                self.pending[path] = _Pending(st.st_size, st.st_mtime, now)

    def _settled(self) -> list[Path]:
        now = time.monotonic()
        ready = []
        for path, p in list(self.pending.items()):
            try:
                st = path.stat()
            except OSError:
                del self.pending[path]  # renamed away or deleted before it settled
                continue
            if (st.st_size, st.st_mtime) != (p.size, p.mtime):
                self.pending[path] = _Pending(st.st_size, st.st_mtime, now)
                continue
            # Files already old when first seen (catch-up) still get one settle period:
            # a copy may be in progress at the moment the watcher starts.
            if st.st_size > 0 and now - p.since >= self.opt.settle:
                ready.append(path)
        return sorted(ready)

    # -- importing ----------------------------------------------------------
    def _import(self, paths: list[Path]) -> list[int]:
        for p in paths:
            st = p.stat() if p.exists() else None
            self.pending.pop(p, None)
            if st is not None:
                self.handled[p] = (st.st_size, st.st_mtime)
        paths = [p for p in paths if p in self.handled]
        if not paths:
            return []
        try:
            rep = run_import(self.catalog, paths, recursive=False, copy_to=self.opt.copy_to,
                             template=self.opt.template, jobs=1)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # the catalog is busy or broken: say so, keep watching
            for p in paths:
                self.handled.pop(p, None)
                self.log(f"{p}: import failed ({exc}); will retry when it changes")
            return []
        self.imported.extend(rep.imported)  # first: a Ctrl-C while logging must not lose the count
        with self.catalog.session() as s:
            where = dict(s.execute(select(Image.id, Image.path).where(Image.id.in_(rep.imported))).all()) \
                if rep.imported else {}
        for iid in rep.imported:
            self.log(f"imported {where.get(iid, '?')} as image {iid}")
        for dup in rep.duplicates:
            self.log(f"{dup}: already in the catalog")
        for path, reason in rep.skipped:
            self.log(f"{path}: skipped ({reason})")
        new = list(rep.imported)
        if new:
            self._after_import(new)
        return new

    def _after_import(self, ids: list[int]) -> None:
        if self.opt.preset:
            for iid in ids:
                try:
                    with self.catalog.session() as s:
                        edits.apply_preset(s, edits.get_version(s, iid).id, self.opt.preset)
                except Exception as exc:
                    self.log(f"image {iid}: preset {self.opt.preset!r} not applied ({exc})")
        if self.opt.auto_sync:
            try:
                for res in auto_sync_new_images(self.catalog, ids):
                    if res.status == "failed":
                        self.log(f"image {res.image_id}: auto-sync failed ({res.error})")
                    else:
                        self.log(f"image {res.image_id}: auto-synced ({res.status})")
            except Exception as exc:
                self.log(f"auto-sync failed: {exc}")

    def step(self) -> list[int]:
        """One poll: take events, import what has settled."""
        self._drain()
        ready = self._settled()
        return self._import(ready) if ready else []

    # -- running ------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run_once(self, timeout: float = 600.0) -> list[int]:
        """Scan, wait until what is there has settled, import it, return."""
        self.scan()
        deadline = time.monotonic() + timeout
        out: list[int] = []
        self._drain()
        while self.pending and time.monotonic() < deadline and not self._stop.is_set():
            out += self.step()
            if self.pending:
                time.sleep(self.opt.poll)
        return out

    def run(self, until: Callable[[], bool] | None = None) -> list[int]:
        """Watch until stop() (or ``until()`` is true, or Ctrl-C); returns imported ids.

        Ctrl-C only asks the loop to stop, so an import under way finishes and the
        watcher shuts down from one known place (a KeyboardInterrupt raised anywhere
        in an import or a catalog write could leave the process hanging at exit).  A
        second Ctrl-C interrupts at once.
        """
        interrupted = threading.Event()
        previous = None
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            def on_sigint(signum, frame):
                interrupted.set()
                self._stop.set()
                signal.signal(signal.SIGINT, signal.default_int_handler)

            previous = signal.signal(signal.SIGINT, on_sigint)
        self._start_observer()
        self.scan()
        last_roots = 0.0
        try:
            while not self._stop.is_set() and not (until and until()):
                if time.monotonic() - last_roots >= 1.0:
                    self._check_roots()
                    last_roots = time.monotonic()
                self.step()
                self._stop.wait(self.opt.poll)
        except KeyboardInterrupt:
            interrupted.set()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            if interrupted.is_set():
                self.log("stopping (Ctrl-C)")
            if self._observer is not None:
                self._observer.stop()
                self._observer.join(timeout=5)
        return list(self.imported)
