"""XMP throughput: reading metadata of photos with sidecars, and writing sidecars,
side by side with exiftool on the same files.

    python bench/xmp_bench.py [--n 10000] [--repeat 3]

Set: N small JPEGs (the shipped falcon sample: it carries a real 9 KB Photoshop XMP
packet), each with a Lightroom-style sidecar (tests/data/xmp/lightroom_subject.xmp
with its rating varied).  Rows, each a median of --repeat runs, one process each:

* read, maskroom: ``read_image_xmp`` per photo (embedded packet + sidecar, parsed
  with defusedxml, fields checked, crs: mapped to a recipe)
* read, exiftool: ``exiftool -json`` over the same photos and sidecars (one process,
  every tag; reads the files, maps nothing)
* write, maskroom: a new sidecar per photo (metadata, the edit, the crs:
  projection), atomic (temp + fsync + rename), then its size/mtime/sha256 state
* update, maskroom: the same over existing Lightroom sidecars (parse, keep every
  foreign field, replace ours)
* update, exiftool: ``exiftool -XMP:Rating=3 -overwrite_original -ext xmp DIR`` over
  the same Lightroom sidecars (one process; changes one field, no fsync)
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.xmp import read_image_xmp
from maskroom.engine.xmp.read import file_state, properties, read_sidecar
from maskroom.engine.xmp.write import atomic_write, develop_properties, metadata_properties, render

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "maskroom" / "data" / "samples" / "immich_prairie_falcon.jpg"
SIDECAR = ROOT / "tests" / "data" / "xmp" / "lightroom_subject.xmp"


def make_set(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data, side = PHOTO.read_bytes(), SIDECAR.read_text()
    out = []
    for i in range(n):
        p = folder / f"IMG_{i:05d}.jpg"
        p.write_bytes(data)
        (folder / f"IMG_{i:05d}.xmp").write_text(side.replace('xmp:Rating="3"', f'xmp:Rating="{i % 6}"'))
        out.append(p)
    return out


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def read_maskroom(photos: list[Path]) -> None:
    for p in photos:
        r = read_image_xmp(p, 800, 533)
        assert r.found and not r.warnings, r.warnings


def read_exiftool(folder: Path) -> None:
    subprocess.run(["exiftool", "-json", "-q", "-ext", "jpg", "-ext", "xmp", str(folder)],
                   check=True, stdout=subprocess.DEVNULL)


RECIPE = Recipe(layers=[Layer("Global", adjustments={"exposure": 0.7, "contrast": 15, "shadows": 20}),
                        Layer("Sky", adjustments={"exposure": -0.5}, mask=MaskDefinition([MaskComponent("sky")]))])
META = {"rating": 4, "flag": "none", "label": "red", "keywords": ["Places|Japan|Kyoto", "birds"],
        "title": "Falcon", "creator": "A. Person", "gps_lat": 35.0, "gps_lon": 135.7}


def write_maskroom(photos: list[Path], update: bool) -> None:
    for p in photos:
        path = p.with_suffix(".xmp") if update else p.with_name(p.name + ".xmp")
        existing = read_sidecar(path) if update else None
        have = properties(existing) if existing is not None else {}
        up, _ = metadata_properties(META, have)
        dev, _ = develop_properties(RECIPE, 800, 533, have, str(path))
        atomic_write(path, render(existing, {**up, **dev}))
        file_state(path)


def write_exiftool(folder: Path) -> None:
    subprocess.run(["exiftool", "-q", "-ext", "xmp", "-overwrite_original", "-XMP:Rating=3", str(folder)],
                   check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if shutil.which("exiftool") is None:
        print("exiftool is needed as the peer (apt-get install libimage-exiftool-perl)", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "set"
        photos = make_set(folder, args.n)

        def cleanup_written():
            for p in folder.glob("*.jpg.xmp"):
                p.unlink()

        runs = {"read, maskroom": [], "read, exiftool -json": [], "write new, maskroom": [],
                "update Lightroom sidecar, maskroom": [], "update Lightroom sidecar, exiftool": []}
        for _ in range(args.repeat):
            runs["read, maskroom"].append(timed(lambda: read_maskroom(photos)))
            runs["read, exiftool -json"].append(timed(lambda: read_exiftool(folder)))
            cleanup_written()
            runs["write new, maskroom"].append(timed(lambda: write_maskroom(photos, update=False)))
            cleanup_written()
            runs["update Lightroom sidecar, maskroom"].append(timed(lambda: write_maskroom(photos, update=True)))
            cleanup_written()
            runs["update Lightroom sidecar, exiftool"].append(timed(lambda: write_exiftool(folder)))
        for name, secs in runs.items():
            med = statistics.median(secs)
            rows.append((name, args.n, med, args.n / med))
    base = {"read": rows[1][3], "write": rows[4][3]}
    print(f"{'operation':<38} {'photos':>7} {'median s':>9} {'photos/s':>9} {'vs exiftool':>11}")
    for name, n, med, rate in rows:
        ratio = rate / (base["read"] if name.startswith("read") else base["write"])
        print(f"{name:<38} {n:>7} {med:>9.2f} {rate:>9.0f} {ratio:>10.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
