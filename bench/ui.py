"""Desktop app responsiveness: `python bench/ui.py`.

1. Event-loop watchdog (a 10 ms QTimer recording the largest gap between ticks)
   while a Subject mask derives and while a slider drag renders, each done the app's
   way (on a worker) and, as the peer, on the GUI thread.
2. The grid with 20k / 100k catalog rows: loading the ordered ids, and the first
   paint (only the visible cells ask for data).

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
from maskroom.engine.recipe import Layer, MaskComponent, MaskDefinition  # noqa: E402
from maskroom.progress import Progress  # noqa: E402
from maskroom.ui import services  # noqa: E402
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
        self.last, self.max_gap = time.perf_counter(), 0.0
        self.timer.start()

    def _tick(self):
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now

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


def main() -> int:
    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="maskroom-bench-ui-"))
    try:
        shutil.copytree(SAMPLES, work / "shoot", ignore=shutil.ignore_patterns("*.md"))
        cat = Catalog.open(work / "catalog.sqlite")
        ids, _ = services.run_import(cat, [work / "shoot"], Progress(), jobs=1)
        by_name = {r.filename: r.id for r in services.image_rows(cat, ids).values()}
        vid = services.master_version_id(cat, by_name["mpl_grace_hopper.jpg"])
        recipe = services.load_recipe(cat, vid)
        recipe.layers.append(Layer("Subject", adjustments={"exposure": 0.5},
                                   mask=MaskDefinition([MaskComponent(kind="subject")])))
        services.save_recipe(cat, vid, recipe, "Add Subject mask")

        counter = iter(range(10**6))

        def derive_mask():
            # A new intent each run (params change): nothing cached, the mask derives again.
            r = recipe.copy()
            r.layer("Subject").mask.components[0].params = {"run": next(counter)}
            services.save_recipe(cat, vid, r, "bench")
            from maskroom.engine.develop.render import clear_memory_caches
            from maskroom.engine.masks.people import clear_cache

            clear_memory_caches()
            clear_cache()  # the people analysis the subject kind consults
            services.mask_alpha(cat, vid, "Subject")

        def drag_render():
            r = recipe.copy()
            base = next(counter) * 0.01  # new values each run: nothing comes from a cache
            for ev in (0.2, 0.4, 0.6):
                r.global_layer.adjustments["exposure"] = ev + base
                services.render_preview(cat, vid, 480, recipe=r)

        print(f"{'task':34s} {'where':12s} {'wall ms':>9s} {'max gap ms':>11s}")
        rows = {}
        for name, fn in (("derive Subject mask", derive_mask), ("3 draft renders (slider drag)", drag_render)):
            for on_worker in (True, False):
                res = [watched(app, fn, on_worker) for _ in range(RUNS)]
                wall = statistics.median(r[0] for r in res) * 1000
                gap = statistics.median(r[1] for r in res)
                rows[(name, on_worker)] = gap
                print(f"{name:34s} {'worker' if on_worker else 'GUI thread':12s} {wall:9.0f} {gap:11.1f}")
            print(f"{'':34s} {'ratio':12s} {'':9s} {rows[(name, False)] / max(rows[(name, True)], 1e-3):10.1f}x")

        from maskroom.ui.library_view import LibraryModel, LibraryView

        print(f"\n{'grid rows':>10s} {'load ids ms':>12s} {'first paint ms':>15s} {'cells asked':>12s} {'pages':>6s}")
        for n in (20_000, 100_000):
            big = Catalog.open(work / f"grid{n}.sqlite")
            with big.session() as s:
                folder = Folder(path="/nonexistent")
                s.add(folder)
                s.flush()
                s.execute(insert(Image), [dict(folder_id=folder.id, filename=f"IMG_{i:06d}.jpg",
                                               path=f"/nonexistent/IMG_{i:06d}.jpg", file_size=1, mtime=0.0,
                                               content_hash=f"{i:032x}", format="jpeg", width=6000, height=4000)
                                          for i in range(n)])
            loads, paints = [], []
            for _ in range(RUNS):
                model = LibraryModel(big)
                t0 = time.perf_counter()
                model.reload({}, "name")
                loads.append(time.perf_counter() - t0)
                view = LibraryView(model)
                view.resize(1200, 800)
                t0 = time.perf_counter()
                view.show()
                spin(app, lambda: model.thumbs.requested)
                paints.append(time.perf_counter() - t0)
                spin(app, model.thumbs.idle)
                asked, pages = len(model.thumbs.requested), len(model.pages_loaded)
                view.close()
                view.deleteLater()
                app.processEvents()
            print(f"{n:10d} {statistics.median(loads) * 1000:12.1f} {statistics.median(paints) * 1000:15.1f} "
                  f"{asked:12d} {pages:6d}")
            big.close()
        cat.close()
    finally:
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(30000)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
