"""Mask handle drags in the app: `python bench/ui_handles.py`.

The event-loop watchdog of bench/ui.py (a 10 ms QTimer recording the largest gap
between ticks) runs while a person drags, with real mouse events on the canvas:

* a radial gradient's edge handle, 30 moves 16 ms apart, then the release (one
  history step) and the full preview that follows; the app's way (draft renders on
  a worker while dragging) against the peer that renders each move's preview on
  the GUI thread;
* an object box's corner, then the release: the app re-derives the object on a
  worker; the peer derives it on the GUI thread.

Medians of a few runs on a shared machine: expect noise.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtCore import QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from maskroom.catalog import Catalog  # noqa: E402
from maskroom.core.recipe import MaskComponent  # noqa: E402
from maskroom.core.progress import Progress  # noqa: E402
from maskroom.services import develop as develop_service, importing, library, masks  # noqa: E402
from ui import SAMPLES, Watchdog, spin  # noqa: E402  (bench/ui.py)

RUNS = 3
MOVES = 30


def settle(app, win):
    spin(app, lambda: win.runner.running == 0, 120)


def drag(app, canvas, a: QPointF, b: QPointF, on_move=None) -> None:
    """Press at a, MOVES moves 16 ms apart to b, release (as a hand would)."""
    QTest.mouseMove(canvas, a.toPoint())
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, a.toPoint())
    for i in range(1, MOVES + 1):
        c0 = time.thread_time()
        QTest.mouseMove(canvas, (a + (b - a) * (i / MOVES)).toPoint())
        MOVE_CPU_MS.append((time.thread_time() - c0) * 1000)
        if on_move is not None:
            on_move()
        end = time.perf_counter() + 0.016
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)  # not a busy loop: PySide6 6.12.0 loses a reference to None per call
    t0 = time.perf_counter()
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, b.toPoint())
    RELEASE_MS.append((time.perf_counter() - t0) * 1000)


RELEASE_MS: list[float] = []  # the release handler itself (the history step), on the GUI thread
MOVE_CPU_MS: list[float] = []  # GUI-thread CPU of one move's handler (drag maths, live edit, render request)


def main() -> int:
    from maskroom.ui.app import MainWindow

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="maskroom-bench-handles-"))
    try:
        shutil.copytree(SAMPLES, work / "shoot", ignore=shutil.ignore_patterns("*.md"))
        cat = Catalog.open(work / "catalog.sqlite")
        imported = importing.import_photos(cat, [work / "shoot"], Progress(), jobs=1)
        ids, _ = imported.image_ids, imported.problems
        by_name = {r.filename: r.id for r in library.image_rows(cat, ids).values()}
        win = MainWindow(cat, QSettings(str(work / "ui.ini"), QSettings.IniFormat))
        win.resize(1400, 900)
        win.show()
        win.select_image(by_name["immich_tanners_ridge.jpg"])
        win.show_view("develop")
        settle(app, win)
        canvas, panel = win.canvas, win.masks_panel
        panel.add_component(MaskComponent(kind="radial", params={"cx": 0.5, "cy": 0.5, "rx": 0.15, "ry": 0.1}),
                            new_layer=True)
        win.develop_panel.set_value("exposure", 1.0)
        radial = win.session.layer.mask.components[0].uid
        panel.add_component(MaskComponent(kind="object", params={"box": [0.1, 0.4, 0.45, 0.75]}), new_layer=True)
        win.develop_panel.set_value("exposure", -1.0)
        obj = win.session.layer.mask.components[0].uid
        settle(app, win)

        def render_here():  # the peer: each move's preview rendered on the GUI thread
            develop_service.render_preview(cat, win.session.version_id, 1600, recipe=win.session.recipe)

        def derive_here():  # the peer: the object derived on the GUI thread at the release
            masks.refresh_components(cat, win.session.version_id, win.session.recipe, [obj], Progress())

        def run(uid, layer, knob, grow, peer: bool, on_move=None, on_release=None):
            win.session.select_layer(layer)
            panel.rebuild()
            settle(app, win)
            a = canvas.handle_point(uid, knob)
            dog = Watchdog()
            renders0 = win.renderer.renders_done
            dog.start()
            t0 = time.perf_counter()
            drag(app, canvas, a, a + QPointF(grow, grow * 0.5), on_move if peer else None)
            if peer and on_release is not None:
                on_release()
            settle(app, win)
            wall = time.perf_counter() - t0
            gap = dog.stop() * 1000
            # Back to the shape it had, so every run starts from the same one.
            win.undo()
            settle(app, win)
            return wall * 1000, gap, win.renderer.renders_done - renders0

        print(f"{'drag':34s} {'where':11s} {'wall ms':>8s} {'max gap ms':>11s} {'renders':>8s}")
        for name, uid, layer, knob, grow, on_move, on_release in (
                (f"radial edge, {MOVES} moves + release", radial, "Radial gradient", "rx+", 120, render_here, None),
                ("object corner + re-derive", obj, "Object", "se", 80, None, derive_here)):
            gaps = {}
            for peer in (False, True):
                # A different size each run: nothing comes from a cache.
                res = [run(uid, layer, knob, grow + 9 * i + 40 * peer, peer, on_move, on_release) for i in range(RUNS)]
                wall = statistics.median(r[0] for r in res)
                gaps[peer] = statistics.median(r[1] for r in res)
                renders = statistics.median(r[2] for r in res)
                print(f"{name:34s} {'GUI thread' if peer else 'app':11s} {wall:8.0f} {gaps[peer]:11.1f} {renders:8.0f}")
            print(f"{'':34s} {'ratio':11s} {'':8s} {gaps[True] / max(gaps[False], 1e-3):10.1f}x")
        print(f"\nrelease handler (one history step + reload), GUI thread: median {statistics.median(RELEASE_MS):.1f} ms, "
              f"max {max(RELEASE_MS):.1f} ms over {len(RELEASE_MS)} drags")
        print(f"one move's handler, GUI-thread CPU: median {statistics.median(MOVE_CPU_MS):.2f} ms, "
              f"max {max(MOVE_CPU_MS):.2f} ms over {len(MOVE_CPU_MS)} moves")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        win.close()
        cat.close()
    finally:
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(30000)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
