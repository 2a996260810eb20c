"""Export benchmark: per-stage cost on one 12 MP photo, and batch throughput by --jobs.

    python bench/export.py [--images 4] [--megapixels 12] [--repeats 3]

Synthesises its inputs (shipped samples upscaled) in a temp folder, so it needs
nothing outside the repo.  Prints medians; the batch table gives jobs=N against
jobs=1 measured in the same run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from maskroom.catalog import Catalog  # noqa: E402
from maskroom.catalog.schema import Folder, Image  # noqa: E402
from maskroom.engine.develop.render import clear_memory_caches, to_output  # noqa: E402
from maskroom.engine.export.job import ExportSettings, master_version_ids, render_linear, run_export  # noqa: E402
from maskroom.engine.export.metadata import ImageMetadata, write_metadata  # noqa: E402
from maskroom.engine.export.sharpen import sharpen  # noqa: E402
from maskroom.engine.export.writers import write_image  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "maskroom" / "data" / "samples"


def make_inputs(folder: Path, n: int, megapixels: float) -> list[Path]:
    srcs = sorted(p for p in SAMPLES.glob("*.jpg") if "orientation" not in p.name)
    out = []
    for i in range(n):
        img = cv2.imread(str(srcs[i % len(srcs)]))
        h, w = img.shape[:2]
        s = (megapixels * 1e6 / (w * h)) ** 0.5
        big = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)
        p = folder / f"big_{i:02d}.jpg"
        cv2.imwrite(str(p), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
        out.append(p)
    return out


def add_rows(catalog: Catalog, files: list[Path]) -> list[int]:
    with catalog.session() as s:
        folder = Folder(path=str(files[0].parent))
        s.add(folder)
        rows = []
        for i, p in enumerate(files):
            h, w = cv2.imread(str(p), cv2.IMREAD_REDUCED_GRAYSCALE_8).shape[:2]
            row = Image(folder=folder, filename=p.name, path=str(p), file_size=p.stat().st_size, mtime=0.0,
                        content_hash=f"bench{i}", format="jpg", width=w * 8, height=h * 8,
                        camera_make="Canon", camera_model="EOS R5", rating=3)
            s.add(row)
            rows.append(row)
        s.flush()
        ids = [r.id for r in rows]
        return master_version_ids(s, ids)


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--megapixels", type=float, default=12.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="maskroom-bench-export-"))
    try:
        files = make_inputs(tmp, args.images, args.megapixels)
        catalog = Catalog.open(tmp / "catalog.sqlite")
        vids = add_rows(catalog, files)
        out = tmp / "out"

        # -- stages on one image ------------------------------------------------
        def render_cold():
            clear_memory_caches()
            return render_linear(catalog, vids[0], None)

        lin = render_cold()
        px8, icc = to_output(lin, "srgb", 8)
        px16, icc16 = to_output(lin, "adobe-rgb", 16)
        meta = ImageMetadata(camera_make="Canon", camera_model="EOS R5", rating=3, keywords=["a", "b"])
        out.mkdir()
        stages = [
            ("render full (decode + develop)", render_cold),
            ("render long edge 2048", lambda: (clear_memory_caches(), render_linear(catalog, vids[0], 2048))),
            ("to_output srgb 8-bit", lambda: to_output(lin, "srgb", 8)),
            ("to_output adobe-rgb 16-bit", lambda: to_output(lin, "adobe-rgb", 16)),
            ("sharpen screen (8-bit)", lambda: sharpen(px8, "screen")),
            ("write JPEG q90 + ICC", lambda: write_image(out / "a.jpg", px8, "jpeg", bits=8, icc=icc, quality=90)),
            ("write PNG 16-bit + ICC", lambda: write_image(out / "a.png", px16, "png", bits=16, icc=icc16)),
            ("write TIFF 16-bit LZW + ICC", lambda: write_image(out / "a.tif", px16, "tiff", bits=16, icc=icc16)),
            ("metadata (pyexiv2) into JPEG", lambda: write_metadata(out / "a.jpg", meta, "all")),
        ]
        h, w = lin.shape[:2]
        print(f"\nstages, one {w}x{h} image ({w * h / 1e6:.1f} MP), median of {args.repeats}")
        print(f"{'stage':34s} {'seconds':>8s}")
        for name, fn in stages:
            print(f"{name:34s} {median_time(fn, args.repeats):8.3f}")

        # -- batches -------------------------------------------------------------
        print(f"\nbatch of {len(vids)} images, full size, median of {args.repeats}")
        print(f"{'settings':28s} {'jobs':>4s} {'seconds':>8s} {'images/s':>9s} {'vs jobs=1':>9s}")
        for label, settings in (
            ("jpeg 8-bit q90", ExportSettings()),
            ("tiff 16-bit adobe-rgb", ExportSettings(format="tiff", bits=16, colorspace="adobe-rgb")),
        ):
            base = None
            for jobs in (1, 2):
                def run():
                    clear_memory_caches()
                    shutil.rmtree(out, ignore_errors=True)
                    rep = run_export(catalog, vids, out, settings, jobs=jobs)
                    assert rep.ok, rep.failed
                t = median_time(run, args.repeats)
                base = base or t
                print(f"{label:28s} {jobs:4d} {t:8.2f} {len(vids) / t:9.2f} {base / t:8.2f}x")
        catalog.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
