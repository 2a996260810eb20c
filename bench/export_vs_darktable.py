"""24 MP export, CPU seconds and peak RSS, maskroom against darktable-cli.

    python bench/export_vs_darktable.py [--runs 3] [--sample PATH] [--threads N] [--keep DIR]

One command, prints a table.  The same 24 MP JPEG (default: the 6000x4000
``portraits/immich_craft-beer.jpg`` of ../shared/samples, else a shipped sample
upscaled) gets lens EXIF written into a copy (Canon EOS 6D, EF 24-105mm f/4L at
65 mm f/8: both tools find a lensfun profile for it), then is exported as a JPEG
q90 three ways by both tools:

(a) no edit;
(a') exposure and a point tone curve (both tools);
(b) a global edit: maskroom exposure, contrast, vibrance, point tone curve;
    darktable exposure, tone curve, colour balance rgb (vibrance/contrast);
(c) every new module: maskroom's ``modules`` recipe of bench/develop_bench.py (tone
    curve, colour mixer, colour grading, colour NR, vignette, grain, highlights,
    shadows, clarity, 3 masked layers) plus lens corrections; darktable the same
    modules as (b) plus lens correction and vignette (no masks: darktable does less).

Both run as subprocesses (``maskroom --catalog C export`` and ``darktable-cli
--core --disable-opencl`` with a throwaway ``--configdir`` and an XMP this bench
writes), and both are measured the same way: ``resource.getrusage(RUSAGE_CHILDREN)``
around each run for CPU seconds (user + system), and the children's ``ru_maxrss``
for peak RSS (the maximum over the children so far, so each tool runs in its own
fresh bench child process).  ``--threads N`` pins both tools to N threads
(OMP_NUM_THREADS for darktable, OPENCV_FOR_THREADS_NUM for maskroom's OpenCV); the
default runs both with their own default threading (all cores).  darktable is bench-only: it is
never needed by tests or CI.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_SAMPLE = REPO.parent / "shared" / "samples" / "portraits" / "immich_craft-beer.jpg"
FALLBACK_SAMPLE = REPO / "maskroom" / "data" / "samples" / "immich_el_torcal_rocks.jpg"
W, H = 6000, 4000
LENS_EXIF = {"make": "Canon", "model": "Canon EOS 6D", "lens": "EF24-105mm f/4L IS USM",
             "focal": 65.0, "aperture": 8.0}
LENS_PROFILE = "Canon EF 24-105mm f/4L IS USM"
CASES = ("none", "curve", "global", "modules")


# -- the input ---------------------------------------------------------------

def prepare_image(dest: Path, sample: Path | None = None) -> Path:
    """A 24 MP JPEG with lens EXIF (the sample itself when it is 24 MP, else upscaled)."""
    import cv2
    import pyexiv2

    sample = sample or (SHARED_SAMPLE if SHARED_SAMPLE.exists() else FALLBACK_SAMPLE)
    img = cv2.imread(str(sample), cv2.IMREAD_COLOR)
    if img.shape[:2] != (H, W):
        img = cv2.resize(img, (W, H), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(dest), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    else:
        shutil.copyfile(sample, dest)
    e = LENS_EXIF
    with pyexiv2.Image(str(dest)) as meta:
        meta.modify_exif({
            "Exif.Image.Make": e["make"], "Exif.Image.Model": e["model"], "Exif.Photo.LensModel": e["lens"],
            "Exif.Photo.FocalLength": f"{int(e['focal'] * 10)}/10", "Exif.Photo.FNumber": f"{int(e['aperture'] * 10)}/10",
            "Exif.Photo.ExposureTime": "1/125", "Exif.Photo.ISOSpeedRatings": "200",
            "Exif.Image.Orientation": "1",
        })
    return dest


# -- maskroom's side ------------------------------------------------------------

def maskroom_recipe(case: str):
    sys.path.insert(0, str(REPO / "bench"))
    from develop_bench import modules_recipe

    from maskroom.core.recipe import Recipe
    from maskroom.engine.develop import lens  # noqa: F401 (registers the 'lens' recipe setting)

    if case == "none":
        return Recipe()
    if case == "curve":
        r = Recipe()
        r.global_layer.adjustments.update({"exposure": 0.3, "curve.points": [[0.25, 0.2], [0.5, 0.52], [0.78, 0.85]]})
        return r
    if case == "global":
        r = Recipe()
        r.global_layer.adjustments.update({
            "exposure": 0.3, "contrast": 20, "vibrance": 20,
            "curve.points": [[0.25, 0.2], [0.5, 0.52], [0.78, 0.85]]})
        return r
    r = modules_recipe()
    r.settings["lens"] = {"correct": "auto", "profile": LENS_PROFILE}
    return r


def make_catalog(folder: Path, image: Path, case: str) -> tuple[Path, int]:
    """A catalog holding ``image`` with the case's recipe; (catalog path, image id)."""
    import hashlib

    from PIL import Image as PILImage

    from maskroom.catalog import Catalog, edits
    from maskroom.catalog.schema import Folder, Image

    path = folder / f"catalog-{case}.sqlite"
    cat = Catalog.open(path)
    with cat.session() as s:
        f = Folder(path=str(image.parent))
        s.add(f)
        s.flush()
        with PILImage.open(image) as im:
            w, h = im.size
        e = LENS_EXIF
        row = Image(folder_id=f.id, filename=image.name, path=str(image), file_size=image.stat().st_size,
                    mtime=image.stat().st_mtime, content_hash=hashlib.sha256(image.read_bytes()).hexdigest()[:32],
                    format="jpeg", width=w, height=h, camera_make=e["make"], camera_model=e["model"],
                    lens=e["lens"], focal_length=e["focal"], aperture=e["aperture"])
        s.add(row)
        s.flush()
        vid = edits.get_version(s, row.id).id
        edits.save_recipe(s, vid, maskroom_recipe(case), f"bench {case}")
        image_id = row.id
    cat.close()
    return path, image_id


def maskroom_cmd(catalog: Path, image_id: int, out_dir: Path) -> list[str]:
    exe = Path(sys.executable).with_name("maskroom")
    return [str(exe), "--catalog", str(catalog), "export", str(image_id), "--to", str(out_dir),
            "--quality", "90", "--metadata", "none", "--on-conflict", "overwrite"]


# -- darktable's side --------------------------------------------------------------
# Module parameters are the modules' C structs (little-endian), hex in the XMP.  The
# layouts are those of darktable 4.2 (the version Debian 12 ships): exposure v6,
# tonecurve v5, colorbalancergb v5, lens v6 (see the struct comments below).

def _hexf(fmt: str, *values) -> str:
    return struct.pack("<" + fmt, *values).hex()


def dt_exposure(ev: float) -> tuple[str, int, str]:
    # mode (int, 0 manual), black, exposure, deflicker_percentile, deflicker_target_level (floats),
    # compensate_exposure_bias (gboolean)
    return "exposure", 6, _hexf("iffffi", 0, 0.0, ev, 50.0, -4.0, 0)


def dt_tonecurve(points: list[tuple[float, float]]) -> tuple[str, int, str]:
    # tonecurve[3][20] {float x, y}, tonecurve_nodes[3] int, tonecurve_type[3] int,
    # tonecurve_autoscale_ab int, tonecurve_preset int, tonecurve_unbound_ab int,
    # preserve_colors int (1 = luminance, as maskroom's point curve)
    curves = []
    for ch in range(3):
        pts = [(0.0, 0.0)] + list(points) + [(1.0, 1.0)] if ch == 0 else [(0.0, 0.0), (1.0, 1.0)]
        flat = []
        for i in range(20):
            x, y = pts[i] if i < len(pts) else (0.0, 0.0)
            flat += [x, y]
        curves.append(flat)
    nodes = [len(points) + 2, 2, 2]
    body = b"".join(struct.pack("<40f", *c) for c in curves)
    body += struct.pack("<3i", *nodes) + struct.pack("<3i", 2, 2, 2)  # MONOTONE_HERMITE
    body += struct.pack("<4i", 3, 0, 1, 1)  # autoscale RGB, preset, unbound, preserve colours: luminance
    return "tonecurve", 5, body.hex()


def dt_colorbalancergb(vibrance: float, contrast: float, saturation: float = 0.0) -> tuple[str, int, str]:
    # 34 floats then saturation_formula (int): see colorbalancergb.c dt_iop_colorbalancergb_params_t (v5)
    f = {
        "shadows_Y": 0.0, "shadows_C": 0.0, "shadows_H": 0.0, "midtones_Y": 0.0, "midtones_C": 0.0, "midtones_H": 0.0,
        "highlights_Y": 0.0, "highlights_C": 0.0, "highlights_H": 0.0, "global_Y": 0.0, "global_C": 0.0,
        "global_H": 0.0, "shadows_weight": 1.0, "white_fulcrum": 0.0, "highlights_weight": 1.0,
        "chroma_shadows": 0.0, "chroma_highlights": 0.0, "chroma_global": 0.0, "chroma_midtones": 0.0,
        "saturation_global": saturation, "saturation_highlights": 0.0, "saturation_midtones": 0.0,
        "saturation_shadows": 0.0, "hue_angle": 0.0, "brilliance_global": 0.0, "brilliance_highlights": 0.0,
        "brilliance_midtones": 0.0, "brilliance_shadows": 0.0, "mask_grey_fulcrum": 0.1845, "vibrance": vibrance,
        "grey_fulcrum": 0.1845, "contrast": contrast,
    }
    return "colorbalancergb", 5, (struct.pack(f"<{len(f)}f", *f.values()) + struct.pack("<i", 1)).hex()


def dt_lens(lens: str, camera: str, focal: float, aperture: float) -> tuple[str, int, str]:
    # lens v6 of darktable 4.2: method (1 lensfun), modify_flags (lensfun's TCA 1 | VIGNETTING 2 |
    # DISTORTION 8), inverse (0 correct), scale, crop, focal, aperture, distance (floats),
    # target_geom (1 rectilinear), camera[128], lens[128], tca_override, tca_r, tca_b,
    # cor_dist_ft, cor_vig_ft, modified
    body = struct.pack("<iiifffffi", 1, 11, 0, 1.0, 1.005, focal, aperture, 1000.0, 1)
    body += camera.encode()[:127].ljust(128, b"\0") + lens.encode()[:127].ljust(128, b"\0")
    body += struct.pack("<iffffi", 0, 1.0, 1.0, 1.0, 1.0, 1)
    return "lens", 6, body.hex()


def dt_vignette(amount: float) -> tuple[str, int, str]:
    # vignette v4: scale, falloff_scale, brightness, saturation, center {x, y}, autoratio,
    # whratio, shape, dithering, unbound
    return "vignette", 4, _hexf("ffffff" + "i" + "ff" + "ii", 80.0, 50.0, amount, -0.2, 0.0, 0.0, 1, 1.0, 1.0, 0, 1)


def dt_history(case: str) -> list[tuple[str, int, str]]:
    if case == "none":
        return []
    mods = [dt_exposure(0.3), dt_tonecurve([(0.25, 0.2), (0.5, 0.52), (0.78, 0.85)])]
    if case == "curve":
        return mods
    mods.append(dt_colorbalancergb(0.2, 0.2))
    if case == "modules":
        e = LENS_EXIF
        mods = [dt_lens(LENS_PROFILE, e["model"], e["focal"], e["aperture"])] + mods
        mods.append(dt_vignette(-0.3))
    return mods


def write_xmp(path: Path, case: str) -> None:
    items = []
    for n, (op, version, params) in enumerate(dt_history(case)):
        items.append(
            f'      <rdf:li darktable:num="{n}" darktable:operation="{op}" darktable:enabled="1" '
            f'darktable:modversion="{version}" darktable:params="{params}" darktable:multi_name="" '
            f'darktable:multi_priority="0"/>')
    history = "\n".join(items)
    path.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:darktable="http://darktable.sf.net/"
    darktable:xmp_version="5" darktable:history_end="{len(items)}" darktable:iop_order_version="2">
   <darktable:history>
    <rdf:Seq>
{history}
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
""")


def darktable_cmd(image: Path, xmp: Path, out: Path, config: Path) -> list[str]:
    return ["darktable-cli", str(image), str(xmp), str(out), "--core", "--disable-opencl",
            "--configdir", str(config), "--library", ":memory:", "--conf", "plugins/imageio/format/jpeg/quality=90"]


# -- measuring -----------------------------------------------------------------------

def child_run(cmd: list[str], env: dict) -> dict:
    """Run one command in this (fresh) process's only child and report its rusage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}...: exit {res.returncode}: {(res.stderr or res.stdout)[-600:]}")
    return {"user": after.ru_utime - before.ru_utime, "sys": after.ru_stime - before.ru_stime,
            "maxrss_mb": after.ru_maxrss / 1024, "minflt": after.ru_minflt - before.ru_minflt}


def measure(cmd: list[str], env: dict) -> dict:
    """One run in a fresh bench process, so ru_maxrss of the children is this run's alone."""
    out = subprocess.run([sys.executable, __file__, "--_child", json.dumps({"cmd": cmd, "env": env})],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-800:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def tool_env(threads: int | None, tool: str) -> dict:
    env = {k: v for k, v in os.environ.items()}
    env.setdefault("OPENCV_THREAD_POOL_ACTIVE_WAIT_WORKER", "0")
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)  # darktable's OpenMP (and numpy's BLAS)
        env["OPENCV_FOR_THREADS_NUM"] = str(threads)  # OpenCV's own pool (it ignores OMP_NUM_THREADS)
    return env


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sample", type=Path)
    ap.add_argument("--threads", type=int, help="pin both tools to N threads (default: their own defaults)")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--keep", type=Path, help="keep the outputs (and XMPs) in this folder")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        spec = json.loads(args._child)
        print(json.dumps(child_run(spec["cmd"], spec["env"])))
        return
    tmp = Path(tempfile.mkdtemp(prefix="export-vs-dt-"))
    keep = args.keep or tmp
    keep.mkdir(parents=True, exist_ok=True)
    has_dt = shutil.which("darktable-cli") is not None
    if not has_dt:
        print("darktable-cli not found: maskroom only (apt-get install darktable for the comparison)")
    try:
        image = prepare_image(tmp / "bench24mp.jpg", args.sample)
        rows = []
        for case in args.cases.split(","):
            catalog, image_id = make_catalog(tmp, image, case)
            m_out = keep / f"maskroom-{case}"
            m_cmd = maskroom_cmd(catalog, image_id, m_out)
            measure(m_cmd, tool_env(args.threads, "maskroom"))  # warm-up: caches of the OS, imports
            m = [measure(m_cmd, tool_env(args.threads, "maskroom")) for _ in range(args.runs)]
            d = None
            if has_dt:
                xmp = keep / f"darktable-{case}.xmp"
                write_xmp(xmp, case)
                cfg = tmp / f"dtconfig-{case}"
                d_out = keep / f"darktable-{case}.jpg"
                d_cmd = darktable_cmd(image, xmp, d_out, cfg)
                env = tool_env(args.threads, "darktable")
                d_out.unlink(missing_ok=True)
                measure(d_cmd, env)  # first run builds the config and caches: not timed
                d = []
                for _ in range(args.runs):
                    d_out.unlink(missing_ok=True)
                    d.append(measure(d_cmd, env))
            rows.append((case, m, d))
        thr = f"{args.threads} thread(s) each" if args.threads else f"default threads ({os.cpu_count()} CPUs)"
        print(f"\n24 MP ({W}x{H}) JPEG q90 export, median of {args.runs} runs, {thr}, "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'case':8s} {'maskroom CPU s':>14s} {'(sys)':>6s} {'peak MB':>8s} "
              f"{'darktable CPU s':>15s} {'(sys)':>6s} {'peak MB':>8s} {'CPU ratio':>9s}")
        for case, m, d in rows:
            cpu = statistics.median(r["user"] + r["sys"] for r in m)
            sys_ = statistics.median(r["sys"] for r in m)
            rss = max(r["maxrss_mb"] for r in m)
            line = f"{case:8s} {cpu:14.2f} {sys_:6.2f} {rss:8.0f}"
            if d:
                dcpu = statistics.median(r["user"] + r["sys"] for r in d)
                line += (f" {dcpu:15.2f} {statistics.median(r['sys'] for r in d):6.2f} "
                         f"{max(r['maxrss_mb'] for r in d):8.0f} {cpu / dcpu:8.2f}x")
            print(line)
        print("(CPU ratio = maskroom / darktable-cli; targets: <= 1.0x, maskroom peak <= 1024 MB)")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
