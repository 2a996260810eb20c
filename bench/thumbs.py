"""Edited thumbnails: `python bench/thumbs.py`.

Median milliseconds per grid cell over the 10 shipped samples, each edited, for:

* the peer: loading the imported thumbnail (what an unedited cell costs: path + JPEG read);
* an edited thumbnail cold (plan, render at 256 px, JPEG write; memory caches cleared);
* an edited thumbnail cached (plan + reading the cached JPEG);
* for comparison, ``render_preview_srgb(..., 256)`` - the develop render cache's entry
  point at the same size, which starts from the 2048 px preview (not used by the grid).

Two edits: "global" (exposure, contrast, vibrance, clarity) and "masked" (the same plus a
linear gradient layer and a luminance-range layer: range masks derive on the 2048 px
preview, as in Develop).  The machine is shared: expect noise, read the ratios.
"""
from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402

from maskroom.catalog import Catalog  # noqa: E402
from maskroom.engine import thumbnails as T  # noqa: E402
from maskroom.engine.develop.render import clear_memory_caches, render_preview_srgb  # noqa: E402
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition  # noqa: E402
from maskroom.core.progress import Progress  # noqa: E402
from maskroom.services import develop as develop_service, editing, importing  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "maskroom" / "data" / "samples"
RUNS = 3


def edit_all(catalog, ids, masked: bool) -> list[int]:
    vids = []
    for image_id in ids:
        vid = editing.master_version_id(catalog, image_id)
        recipe = editing.load_recipe(catalog, vid)
        recipe.layers = recipe.layers[:1]
        recipe.global_layer.adjustments = {"exposure": 0.4, "contrast": 20.0, "vibrance": 25.0, "clarity": 15.0}
        if masked:
            recipe.layers.append(Layer("Sky grad", adjustments={"exposure": -0.6, "dehaze": 20.0}, mask=MaskDefinition(
                [MaskComponent(kind="linear", params={"x0": 0.5, "y0": 0.0, "x1": 0.5, "y1": 0.5})])))
            recipe.layers.append(Layer("Shadows", adjustments={"shadows": 30.0}, mask=MaskDefinition(
                [MaskComponent(kind="luminance-range", params={"min": 0.0, "max": 0.3})])))
        editing.save_recipe(catalog, vid, recipe, "bench")
        vids.append(vid)
    return vids


def per_cell(fn, items) -> list[float]:
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="maskroom-bench-thumbs-"))
    try:
        shutil.copytree(SAMPLES, work / "shoot", ignore=shutil.ignore_patterns("*.md"))
        catalog = Catalog.open(work / "catalog.sqlite")
        imported = importing.import_photos(catalog, [work / "shoot"], Progress(), jobs=1)
        ids, problems = imported.image_ids, imported.problems
        assert not problems, problems
        cells = [(i, None) for i in ids]

        def imported(cell):
            img = cv2.imread(str(develop_service.thumbnail_path(catalog, cell[0])))
            assert img is not None

        def edited(cell):
            plan = T.plan_thumbnails(catalog, [cell])[cell]
            thumb = T.edited_thumbnail(catalog, cell[0], plan=plan, load=True)
            assert thumb is not None and thumb.rgb is not None

        rows = []
        for masked in (False, True):
            vids = edit_all(catalog, ids, masked)
            peer, cold, cached, develop = [], [], [], []
            for _ in range(RUNS):
                peer += per_cell(imported, cells)
                shutil.rmtree(Path(catalog.cache_dir) / T.FOLDER, ignore_errors=True)
                clear_memory_caches()
                cold += per_cell(edited, cells)
                cached += per_cell(edited, cells)
                shutil.rmtree(Path(catalog.cache_dir) / "renders", ignore_errors=True)
                clear_memory_caches()
                develop += per_cell(lambda v: render_preview_srgb(catalog, v, 256), vids)
            t0 = time.perf_counter()
            for _ in range(RUNS):
                T.plan_thumbnails(catalog, cells)
            batch = (time.perf_counter() - t0) * 1000 / RUNS / len(cells)
            rows.append(("masked" if masked else "global", statistics.median(peer), statistics.median(cold),
                         statistics.median(cached), statistics.median(develop), batch))
        catalog.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"10 samples x {RUNS} runs, median ms per cell (load average {os.getloadavg()[0]:.1f})\n")
    print("| edit | imported thumb (peer) | edited cold | edited cached | cached / peer "
          "| render_preview_srgb 256 cold | plan, batched per cell |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, peer, cold, cached, develop, batch in rows:
        print(f"| {name} | {peer:.2f} | {cold:.1f} | {cached:.2f} | {cached / peer:.1f}x | {develop:.1f} | {batch:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
