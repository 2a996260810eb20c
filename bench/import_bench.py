"""Import throughput: maskroom import vs vipsthumbnail making the same thumbnails.

    python bench/import_bench.py [--synthetic 40] [--jobs 2]

Two sets: the photos in ../shared/samples (mixed sizes and formats, RAW included)
and synthetic 24 MP JPEGs made from upscaled sample photos with sensor-like noise.
maskroom's import writes a 256 px thumbnail and a 2048 px preview per file and
the catalog rows; vipsthumbnail (libvips, the fastest common thumbnailer) writes
only the 256 px thumbnail of each file, in the same run, as the peer.
Target (issue 2): 24 MP JPEG import with thumbnail + preview >= 20 files/s on 2 cores.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from maskroom.catalog import Catalog
from maskroom.engine.importer import run_import

SHARED = Path(__file__).resolve().parents[2] / "shared" / "samples"
SHIPPED = Path(__file__).resolve().parents[1] / "maskroom" / "data" / "samples"


def make_24mp(dest: Path, n: int) -> list[Path]:
    sources = (sorted((SHARED / "sky").glob("*.jpg"))[:8] or sorted(SHARED.rglob("*.jpg"))[:8]
               or sorted(SHIPPED.glob("*.jpg"))[:8])  # a clone without ../shared
    rng = np.random.default_rng(0)
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        img = cv2.imread(str(sources[i % len(sources)]))
        big = cv2.resize(img, (6000, 4000), interpolation=cv2.INTER_CUBIC)
        noise = rng.normal(0, 4, (400, 600, 3)).astype(np.int16)
        big = np.clip(big.astype(np.int16) + np.tile(noise, (10, 10, 1)), 0, 255).astype(np.uint8)
        p = dest / f"DSC_{i:04d}.jpg"
        cv2.imwrite(str(p), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
        out.append(p)
    return out


def time_import(folder: Path, jobs: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        cat = Catalog.open(Path(tmp) / "bench.sqlite")
        t = time.perf_counter()
        report = run_import(cat, [folder], recursive=True, jobs=jobs)
        elapsed = time.perf_counter() - t
        cat.close()
    return elapsed, len(report.imported)


def _vips(exe: str, size: int, files: list[Path], out: str, jobs: int) -> None:
    # Parallel vipsthumbnail processes, like our import workers.
    chunks = [files[i::jobs] for i in range(jobs)]
    procs = [subprocess.Popen([exe, "-s", str(size), "-o", f"{out}/%s_{k}.jpg", *map(str, c)],
                              stderr=subprocess.DEVNULL) for k, c in enumerate(chunks) if c]
    for p in procs:
        p.wait()


def time_vips(files: list[Path], jobs: int, with_preview: bool = False) -> float | None:
    """The 256 px thumbnail only; or, with_preview, the same work as ours: a 2048 px
    preview from the original, then the 256 px thumbnail from that preview."""
    exe = shutil.which("vipsthumbnail")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        if with_preview:
            Path(tmp, "p").mkdir()
            _vips(exe, 2048, files, f"{tmp}/p", jobs)
            _vips(exe, 256, sorted(Path(tmp, "p").glob("*.jpg")), tmp, jobs)
        else:
            _vips(exe, 256, files, tmp, jobs)
        return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if SHARED.exists():
            files = [p for p in SHARED.rglob("*") if p.is_file() and p.suffix.lower() != ".md"]
            t, n = time_import(SHARED, args.jobs)
            raster = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")]
            rows.append(("../shared/samples (mixed, RAW incl.)", n, t, len(raster),
                         time_vips(raster, args.jobs), time_vips(raster, args.jobs, with_preview=True)))
        synth = make_24mp(Path(tmp) / "synthetic", args.synthetic)
        t, n = time_import(synth[0].parent, args.jobs)
        rows.append((f"{len(synth)} x 24 MP JPEG", n, t, len(synth),
                     time_vips(synth, args.jobs), time_vips(synth, args.jobs, with_preview=True)))
    nan = float("nan")
    print(f"{'set':<38} {'files':>5} {'maskroom f/s':>12} {'vips 256 f/s':>12} {'ratio':>6} "
          f"{'vips 2048+256 f/s':>17} {'ratio':>6}")
    for name, n, t, vn, v, vp in rows:
        ours = n / t
        peer = vn / v if v else nan
        peer2 = vn / vp if vp else nan
        print(f"{name:<38} {n:>5} {ours:>12.1f} {peer:>12.1f} {ours / peer:>6.2f} {peer2:>17.1f} {ours / peer2:>6.2f}")
    print("maskroom: hash + EXIF + 256 px thumbnail + 2048 px preview + catalog rows per file (RAW too);")
    print("vips 256: vipsthumbnail's thumbnail only (JPEG/PNG/WebP); vips 2048+256: the same two sizes as ours.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
