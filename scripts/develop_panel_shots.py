"""Screenshots of the Develop panel and before/after renders of the new modules.

    python scripts/develop_panel_shots.py [--out out]

Imports one shipped sample into a throw-away catalog, opens the app offscreen, sets a
tone curve, colour mixer, colour grading, vignette and grain through the panel (each a
history step), and writes out/develop_window.png (the window), out/develop_panel.png
(every section of the panel, unscrolled), out/develop_before.png and
out/develop_after.png (the photo without and with the edit) and out/develop_clipping.png
(the J-key clipping overlay).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QScrollArea  # noqa: E402

from maskroom.catalog import Catalog  # noqa: E402
from maskroom.core.progress import Progress  # noqa: E402
from maskroom.services import develop as develop_service, importing  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ui_screenshots import SAMPLES, spin  # noqa: E402

SAMPLE = "immich_tanners_ridge.jpg"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out"))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="maskroom-develop-shots-"))
    try:
        (work / "shoot").mkdir()
        shutil.copy(SAMPLES / SAMPLE, work / "shoot" / SAMPLE)
        catalog = Catalog.open(work / "catalog.sqlite")
        imported = importing.import_photos(catalog, [work / "shoot"], Progress())
        ids, problems = imported.image_ids, imported.problems
        for p in problems:
            print(p, file=sys.stderr)
        from maskroom.ui.app import MainWindow

        win = MainWindow(catalog, QSettings(str(work / "ui.ini"), QSettings.IniFormat))
        win.resize(1500, 1000)
        win.show()
        spin(app, lambda: win.model.rowCount() > 0)
        win.grid.setCurrentIndex(win.model.index(0))
        win.show_view("develop")
        spin(app, lambda: win.canvas.after is not None)
        before = develop_service.render_preview(catalog, win.session.version_id, long_edge=1024)
        panel = win.develop_panel
        panel.set_curve("curve.points", [[0.25, 0.2], [0.5, 0.52], [0.78, 0.85]])
        panel.set_value("curve.shadows", 20)
        for name, value in (("mixer.blue.saturation", -35), ("mixer.blue.luminance", -40),
                            ("mixer.orange.saturation", 25), ("mixer.yellow.hue", -20),
                            ("grade.shadows.hue", 215), ("grade.shadows.saturation", 30),
                            ("grade.highlights.hue", 45), ("grade.highlights.saturation", 25),
                            ("vignette.amount", -35), ("grain.amount", 20)):
            panel.set_value(name, value)
        panel.tabs["Colour Mixer"].setCurrentIndex(1)  # the Saturation tab
        spin(app, lambda: win.runner.running == 0, settle=1.0)
        paths = [args.out / "develop_window.png", args.out / "develop_panel.png", args.out / "develop_before.png",
                 args.out / "develop_after.png", args.out / "develop_clipping.png"]
        win.grab().save(str(paths[0]))
        inner = panel.findChild(QScrollArea).widget()
        inner.resize(420, inner.sizeHint().height())
        inner.grab().save(str(paths[1]))
        after = develop_service.render_preview(catalog, win.session.version_id, long_edge=1024)
        from PIL import Image

        Image.fromarray(before).save(paths[2])
        Image.fromarray(after).save(paths[3])
        Image.fromarray(develop_service.clipping_overlay(after)).save(paths[4])
        for p in paths:
            print(p)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
