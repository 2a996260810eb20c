"""Peak memory of import and export for big photos and a decompression bomb.

    python bench/memory.py [--only 24mp,100mp,bomb] [--keep DIR]

Makes its inputs itself in a temp folder: a 24 MP and a 100 MP JPEG (a shipped
sample upscaled, so the encoder sees photo-like detail) and a 250 MP PNG of zeros
(under 1 MB on disk, written row by row so this script never holds it).  Each
import and each export runs in a fresh child process; the table gives that child's
peak resident memory (ru_maxrss) and the outcome.  Targets (issue 13): 24 MP export
<= 1 GiB, 100 MP <= 2 GiB, the 250 MP bomb refused or <= 2 GiB.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "maskroom" / "data" / "samples" / "immich_el_torcal_rocks.jpg"
GIB = 1 << 30
TARGETS = {"24mp": 1 * GIB, "100mp": 2 * GIB, "bomb": 2 * GIB, "bomb-allowed": 2 * GIB}
# The bomb again with the pixel limit raised over it: what decoding it costs.
ENV = {"bomb-allowed": {"MASKROOM_MAX_PIXELS": "300000000"}}


def make_jpeg(path: Path, megapixels: float) -> Path:
    import cv2
    import numpy as np

    img = cv2.imread(str(SAMPLE))
    h, w = img.shape[:2]
    s = (megapixels * 1e6 / (w * h)) ** 0.5
    big = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)
    noise = np.random.default_rng(0).integers(-6, 7, big.shape[:2], dtype=np.int16)[..., None]
    big = np.clip(big.astype(np.int16) + noise, 0, 255).astype(np.uint8)  # sensor-like grain
    cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def make_zero_png(path: Path, width: int, height: int) -> Path:
    """An RGB PNG of zeros, streamed: one compressed row at a time."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * (1 + 3 * width)  # filter byte + pixels
    comp = zlib.compressobj(9)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        buf = b""
        for _ in range(height):
            buf += comp.compress(row)
            if len(buf) > 1 << 16:
                fh.write(chunk(b"IDAT", buf))
                buf = b""
        buf += comp.flush()
        fh.write(chunk(b"IDAT", buf))
        fh.write(chunk(b"IEND", b""))
    return path


CHILD = r"""
import json, resource, sys
from pathlib import Path
from maskroom.catalog import Catalog
from maskroom.core.config import resolve_catalog
step, db, arg, long_edge = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
cat = Catalog.open(resolve_catalog(db))
out = {}
if step == "import":
    from maskroom.engine.importer import run_import
    rep = run_import(cat, [Path(arg)], jobs=1)
    out = {"ok": bool(rep.imported), "note": rep.skipped[0][1] if rep.skipped else "imported"}
else:
    from maskroom.engine.export.job import ExportSettings, master_version_ids, run_export
    with cat.session() as s:
        from maskroom.catalog.schema import Image
        from sqlalchemy import select
        ids = list(s.scalars(select(Image.id)))
        vids = master_version_ids(s, ids)
    settings = ExportSettings(long_edge=int(long_edge) if long_edge != "full" else None)
    rep = run_export(cat, vids, Path(arg), settings)
    out = {"ok": bool(rep.exported), "note": rep.failed[0][1] if rep.failed else
           "exported" if rep.exported else "nothing to export (the import refused it)"}
out["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(out))
"""


def run_child(step: str, db: Path, arg: Path, long_edge: str = "full", extra_env: dict | None = None) -> dict:
    env = dict(os.environ, MASKROOM_CACHE=str(db.parent / "cache"), OMP_NUM_THREADS="1", **(extra_env or {}))
    done = subprocess.run([sys.executable, "-c", CHILD, step, str(db), str(arg), long_edge],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"ok": False, "note": f"child died ({done.returncode}): {tail}"[:80], "peak": 0}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="24mp,100mp,bomb,bomb-allowed")
    ap.add_argument("--keep", type=Path, help="make the inputs here and keep them")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="maskroom-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    makers = {
        "24mp": lambda p: make_jpeg(p.with_suffix(".jpg"), 24),
        "100mp": lambda p: make_jpeg(p.with_suffix(".jpg"), 100),
        "bomb": lambda p: make_zero_png(p.with_suffix(".png"), 15811, 15811),  # 249.99 MP
        "bomb-allowed": lambda p: make_zero_png(p.with_suffix(".png"), 15811, 15811),
    }
    rows = []
    for case in args.only.split(","):
        folder = work / case
        folder.mkdir(exist_ok=True)
        src = next(iter(sorted(folder.glob("input.*"))), None) or makers[case](folder / "input")
        db = folder / "catalog.sqlite"
        for p in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm")):
            p.unlink(missing_ok=True)
        shutil.rmtree(folder / "cache", ignore_errors=True)  # the import must make its previews again
        imp = run_child("import", db, src, extra_env=ENV.get(case))
        rows.append((case, "import", src.stat().st_size, imp))
        for edge in ("full", "2048"):
            out = folder / f"out-{edge}"
            out.mkdir(exist_ok=True)
            for old in out.iterdir():
                old.unlink()
            rows.append((case, f"export {edge}", src.stat().st_size,
                         run_child("export", db, out, edge, extra_env=ENV.get(case))))
    print(f"{'input':<12} {'step':<12} {'file MB':>8} {'peak RSS MiB':>13} {'target MiB':>11}  outcome")
    for case, step, size, res in rows:
        target = f"{TARGETS[case] / (1 << 20):.0f}" if step.startswith("export") else "-"
        verdict = "ok" if not step.startswith("export") or res["peak"] <= TARGETS[case] else "OVER"
        print(f"{case:<12} {step:<12} {size / 1e6:8.1f} {res['peak'] / (1 << 20):13.0f} {target:>11}  "
              f"{verdict}: {res['note'][:70]}")


if __name__ == "__main__":
    main()
