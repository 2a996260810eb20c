"""Desktop app responsiveness: `python bench/ui.py`.

1. Event-loop watchdog (a 10 ms QTimer recording the largest gap between ticks)
   while a Subject mask derives and while a slider drag renders, each done the app's
   way (on a worker) and, as the peer, on the GUI thread.
2. The grid with 20k / 100k catalog rows: loading the ordered ids, and the first
   paint (only the visible cells ask for data).
3. Window start on a 100k catalog: time spent on the GUI thread (median), the app's
   way (the grid's cell list and the sidebar counts read on a worker; the GUI thread
   builds the window and later swaps the finished list in) against the previous
   synchronous path as the peer (the same window plus the two reads on the GUI
   thread, which is what __init__ ran before), with the largest event-loop pause
   and when the grid is filled.

`--part responsive|grid|start` runs one part (default: all).

Prints medians of a few runs; the machine is shared, so expect noise.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from PySide6.QtCore import QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from maskroom.catalog import Catalog  # noqa: E402
from maskroom.catalog.schema import Folder, Image  # noqa: E402
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition  # noqa: E402
from maskroom.core.progress import Progress  # noqa: E402
from maskroom.services import develop, editing, importing, library, masks  # noqa: E402
from maskroom.ui.workers import JobRunner  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "maskroom" / "data" / "samples"
RUNS = 3


class Watchdog(QObject):
    def __init__(self):
        super().__init__()
        self.timer = QTimer(self, interval=10)
        self.timer.timeout.connect(self._tick)
        self.last, self.max_gap = 0.0, 0.0

    def start(self):
        self.last, self.max_gap, self.gaps = time.perf_counter(), 0.0, []
        self.last_cpu, self.cpu_gaps = time.thread_time(), []
        self.timer.start()

    def _tick(self):
        # Wall gaps count waiting for a core on a busy machine; the GUI thread's own CPU
        # time between two ticks is what the pause would be on a quiet one.
        now, cpu = time.perf_counter(), time.thread_time()
        self.max_gap = max(self.max_gap, now - self.last)
        self.gaps.append(now - self.last)
        self.cpu_gaps.append(cpu - self.last_cpu)
        self.last, self.last_cpu = now, cpu

    def stop(self) -> float:
        self._tick()
        self.timer.stop()
        return self.max_gap


def spin(app, until, timeout=120.0):
    end = time.monotonic() + timeout
    while not until() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)


def watched(app, work, on_worker: bool) -> tuple[float, float]:
    """(wall seconds, largest event-loop gap in ms) for one run of ``work``."""
    dog, runner = Watchdog(), JobRunner()
    dog.start()
    t_warm = time.perf_counter()
    spin(app, lambda: time.perf_counter() - t_warm > 0.05)  # the watchdog is ticking
    dog.max_gap = 0.0
    t0 = time.perf_counter()
    if on_worker:
        job = runner.submit(lambda _p: work())
        spin(app, job.finished_flag.is_set)
        if job.error:
            raise SystemExit(f"benchmark task failed: {job.error}")
    else:
        done = []
        QTimer.singleShot(0, lambda: (work(), done.append(1)))  # as a slot would: the loop waits
        spin(app, lambda: done)
    wall = time.perf_counter() - t0
    app.processEvents()
    return wall, dog.stop() * 1000


def window_start(app, catalog, n: int, on_worker: bool, ini: Path) -> tuple[float, ...]:
    """(GUI-thread ms, window-built ms, largest event-loop pause ms, grid-filled ms,
    first-cells ms, largest GUI-thread CPU pause ms) of one start."""
    from PySide6.QtCore import QSettings

    from maskroom.ui.app import MainWindow, settle_heap

    gui = [0.0]
    real_set = None
    t0 = time.perf_counter()
    win = MainWindow(catalog, QSettings(str(ini), QSettings.IniFormat))
    settle_heap()  # as ui.app.run does after building the window
    if on_worker:
        real_set = win.model._set_entries  # the one GUI-thread step of the worker path

        def timed(entries, *args, **kwargs):
            t = time.perf_counter()
            real_set(entries, *args, **kwargs)
            gui[0] += time.perf_counter() - t

        win.model._set_entries = timed
    else:
        # The previous start: the same reads, on the GUI thread, before the window shows.
        win.model.reload(win._filters(), win.filter_bar.sort_key())
        win.sidebar.reload()
        win.model._generation += 1  # (the worker's copy of the list is then dropped when it lands)
    built = time.perf_counter() - t0
    gui[0] += built
    dog = Watchdog()
    win.show()
    dog.start()
    first = []

    def shown():
        if not first and win.model.rowCount():
            app.processEvents()  # their paint
            first.append(time.perf_counter() - t0)
        return not win.model.loading and win.model.rowCount() == n and win.runner.running == 0

    spin(app, shown)
    filled = time.perf_counter() - t0
    gap = dog.stop()
    win.close()
    win.deleteLater()
    app.processEvents()
    return gui[0] * 1000, built * 1000, gap * 1000, filled * 1000, first[0] * 1000, max(dog.cpu_gaps) * 1000


def scroll_pauses(app, view, seed: int = 0) -> tuple[float, float, float, float]:
    """(largest, p95) event-loop pause in ms, wall and GUI-thread CPU, while the grid scrolls as a user does: a
    smooth wheel scroll (a third of a page every 16 ms for 2 s), then 15 drags of the
    scroll bar to far-apart places, each held 100 ms (a long jump pages in new rows and
    asks for their thumbnails)."""
    import random

    rnd = random.Random(seed)
    bar = view.verticalScrollBar()
    dog = Watchdog()
    dog.start()
    steps = [bar.value() + (i + 1) * max(1, bar.pageStep() // 3) for i in range(125)]
    steps += [rnd.randrange(bar.maximum() + 1) for _ in range(15)]
    for k, v in enumerate(steps):
        bar.setValue(min(v, bar.maximum()))
        t_end = time.perf_counter() + (0.016 if k < 125 else 0.1)
        while time.perf_counter() < t_end:
            app.processEvents()
            time.sleep(0.001)
    dog.stop()
    gaps, cpu = sorted(dog.gaps), sorted(dog.cpu_gaps)
    k = int(0.95 * (len(gaps) - 1))
    return gaps[-1] * 1000, gaps[k] * 1000, cpu[-1] * 1000, cpu[k] * 1000


def synthetic_catalog(path, n: int):
    """A catalog of n image rows whose files do not exist (grid cells show as broken)."""
    big = Catalog.open(path)
    with big.session() as s:
        folder = Folder(path="/nonexistent")
        s.add(folder)
        s.flush()
        s.execute(insert(Image), [dict(folder_id=folder.id, filename=f"IMG_{i:06d}.jpg",
                                       path=f"/nonexistent/IMG_{i:06d}.jpg", file_size=1, mtime=0.0,
                                       content_hash=f"{i:032x}", format="jpeg", width=6000, height=4000)
                                  for i in range(n)])
    return big


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description="desktop app responsiveness")
    ap.add_argument("--part", choices=("all", "responsive", "grid", "start"), default="all")
    ap.add_argument("--rows", default="20000,100000",
                    help="grid sizes, comma-separated (issue 17's target is at 1000000)")
    ap.add_argument("--start-rows", type=int, default=100_000, help="catalog size for the window-start part")
    args = ap.parse_args()
    part, grid_sizes = args.part, [int(n) for n in args.rows.split(",")]
    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="maskroom-bench-ui-"))
    try:
        shutil.copytree(SAMPLES, work / "shoot", ignore=shutil.ignore_patterns("*.md"))
        cat = Catalog.open(work / "catalog.sqlite")
        imported = importing.import_photos(cat, [work / "shoot"], Progress(), jobs=1)
        ids, _ = imported.image_ids, imported.problems
        by_name = {r.filename: r.id for r in library.image_rows(cat, ids).values()}
        vid = editing.master_version_id(cat, by_name["mpl_grace_hopper.jpg"])
        recipe = editing.load_recipe(cat, vid)
        recipe.layers.append(Layer("Subject", adjustments={"exposure": 0.5},
                                   mask=MaskDefinition([MaskComponent(kind="subject")])))
        editing.save_recipe(cat, vid, recipe, "Add Subject mask")

        counter = iter(range(10**6))

        def derive_mask():
            # A new intent each run (params change): nothing cached, the mask derives again.
            r = recipe.copy()
            r.layer("Subject").mask.components[0].params = {"run": next(counter)}
            editing.save_recipe(cat, vid, r, "bench")
            from maskroom.engine.develop.render import clear_memory_caches
            from maskroom.engine.masks.people import clear_cache

            clear_memory_caches()
            clear_cache()  # the people analysis the subject kind consults
            masks.mask_alpha(cat, vid, "Subject")

        def drag_render():
            r = recipe.copy()
            base = next(counter) * 0.01  # new values each run: nothing comes from a cache
            for ev in (0.2, 0.4, 0.6):
                r.global_layer.adjustments["exposure"] = ev + base
                develop.render_preview(cat, vid, 480, recipe=r)

        if part in ("all", "responsive"):
            print(f"{'task':34s} {'where':12s} {'wall ms':>9s} {'max gap ms':>11s}")
        rows = {}
        for name, fn in (("derive Subject mask", derive_mask), ("3 draft renders (slider drag)", drag_render)):
            if part not in ("all", "responsive"):
                break
            for on_worker in (True, False):
                res = [watched(app, fn, on_worker) for _ in range(RUNS)]
                wall = statistics.median(r[0] for r in res) * 1000
                gap = statistics.median(r[1] for r in res)
                rows[(name, on_worker)] = gap
                print(f"{name:34s} {'worker' if on_worker else 'GUI thread':12s} {wall:9.0f} {gap:11.1f}")
            print(f"{'':34s} {'ratio':12s} {'':9s} {rows[(name, False)] / max(rows[(name, True)], 1e-3):10.1f}x")

        from maskroom.ui.library_view import LibraryModel, LibraryView

        if part in ("all", "grid"):
            print("\ngrid: ids loaded, first cells painted (rows landed), then scroll_pauses(); "
                  "'GUI-thread pages' is the peer: rows read while painting, as before")
            print(f"{'grid rows':>10s} {'rows read on':>18s} {'load ids ms':>12s} {'first paint ms':>15s} "
                  f"{'cells asked':>12s} {'pages':>6s} {'scroll max pause ms':>20s} {'p95 ms':>7s} "
                  f"{'max CPU ms':>11s} {'p95 CPU ms':>11s}")
        for n in (grid_sizes if part in ("all", "grid") else ()):
            big = synthetic_catalog(work / f"grid{n}.sqlite", n)
            from maskroom.ui.app import settle_heap

            settle_heap()  # as the app does once its window is built
            for on_worker in (True, False):
                loads, paints, pauses = [], [], []
                for run in range(RUNS):
                    model = LibraryModel(big)
                    if not on_worker:
                        model.peek_row = model.row
                    t0 = time.perf_counter()
                    model.reload({}, "name")
                    loads.append(time.perf_counter() - t0)
                    view = LibraryView(model)
                    view.resize(1200, 800)
                    t0 = time.perf_counter()
                    view.show()
                    spin(app, lambda: model.thumbs.requested and model.pages_loaded and not model.pages_pending)
                    app.processEvents()  # the repaint of the cells whose rows just landed
                    paints.append(time.perf_counter() - t0)
                    spin(app, model.thumbs.idle)
                    asked, pages = len(model.thumbs.requested), len(model.pages_loaded)
                    pauses.append(scroll_pauses(app, view, seed=run))
                    view.close()
                    view.deleteLater()
                    app.processEvents()
                med = [statistics.median(p[k] for p in pauses) for k in range(4)]
                print(f"{n:10d} {'worker (the app)' if on_worker else 'GUI thread (peer)':>18s} "
                      f"{statistics.median(loads) * 1000:12.1f} {statistics.median(paints) * 1000:15.1f} "
                      f"{asked:12d} {pages:6d} {med[0]:20.1f} {med[1]:7.1f} {med[2]:11.1f} {med[3]:11.1f}")
            big.close()
        if part in ("all", "start"):
            n = args.start_rows
            big = synthetic_catalog(work / "start.sqlite", n)
            print(f"\nwindow start, {n} photos")
            print(f"{'path':28s} {'GUI thread ms':>14s} {'window built ms':>16s} {'max pause ms':>13s} "
                  f"{'grid filled ms':>15s} {'first cells ms':>15s} {'max CPU pause ms':>17s}")
            res = {}
            for on_worker in (True, False):
                runs = [window_start(app, big, n, on_worker, work / "start.ini") for _ in range(RUNS)]
                res[on_worker] = [statistics.median(r[k] for r in runs) for k in range(6)]
                label = "worker (the app)" if on_worker else "GUI thread (before)"
                print(f"{label:28s} {res[on_worker][0]:14.0f} {res[on_worker][1]:16.0f} {res[on_worker][2]:13.0f} "
                      f"{res[on_worker][3]:15.0f} {res[on_worker][4]:15.0f} {res[on_worker][5]:17.0f}")
            print(f"{'ratio GUI thread / worker':28s} {res[False][0] / max(res[True][0], 1e-3):13.1f}x "
                  f"{res[False][1] / max(res[True][1], 1e-3):15.1f}x {res[False][2] / max(res[True][2], 1e-3):12.1f}x")
            big.close()
        cat.close()
    finally:
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(30000)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
