"""People masks at the 2048 px preview on 2 cores: medians per kind.

    python bench/people_bench.py [--runs 5] [--photo PATH ...]

"cold" = the per-input analysis (person segmentation, faces, mesh, iris) is not
cached yet, as on the first mask of a photo; "warm" = another part of the same
photo.  The peer row is the shared ``refine_alpha`` on the same person matte at full
preview size, the generic path this module avoids for the person matte.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MASKROOM_ONNX_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from maskroom.engine.masks.people import analysis as P  # noqa: E402
from maskroom.engine.masks.compose import derive  # noqa: E402
from maskroom.engine.masks.overlay import load_rgb  # noqa: E402
from maskroom.engine.masks.refine import refine_alpha  # noqa: E402
from maskroom.engine.masks.registry import MaskInput  # noqa: E402
from maskroom.core.recipe import MaskComponent  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "maskroom" / "data" / "samples"
PREVIEW = 2048


def preview(path: Path) -> np.ndarray:
    img = load_rgb(path)
    h, w = img.shape[:2]
    s = PREVIEW / max(h, w)
    # Upscale small samples too: the target is the 2048 px preview.
    return np.clip(cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC), 0, 1)


def timed(fn, runs: int, cold: bool) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (all threads) of ``fn``.

    On a shared machine the wall time depends on the other jobs; CPU seconds / 2 is
    what the step would take on 2 idle cores if it parallelised perfectly, and the
    CPU seconds themselves are an upper bound for a single core."""
    ts, cs = [], []
    for _ in range(runs):
        if cold:
            P.clear_cache()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return statistics.median(ts), statistics.median(cs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--photo", type=Path, action="append")
    args = ap.parse_args(argv)
    cv2.setNumThreads(2)
    photos = args.photo or [SAMPLES / "mpl_grace_hopper.jpg", SAMPLES / "immich_portrait_curies.jpg"]
    rows = []
    for path in photos:
        img = preview(path)
        inp = MaskInput(img, digest=f"bench:{path.name}")
        d = lambda kind, **p: derive(inp, MaskComponent(kind, params=p))  # noqa: E731
        d("person")  # sessions created, kinds imported: not part of any row
        P.clear_cache()

        def face_parts():
            for kind in P.FACE_PARTS:
                d(kind, person=0)

        r = {
            "analysis (models)": timed(lambda: P.analyse(inp), args.runs, True),
            "person, all (cold)": timed(lambda: d("person"), args.runs, True),
            "person 0 (cold)": timed(lambda: d("person", person=0), args.runs, True),
            "6 face parts of person 0 (cold)": timed(face_parts, args.runs, True),
        }
        P.analyse(inp)
        r["6 face parts of person 0 (warm)"] = timed(face_parts, args.runs, False)
        for kind in P.PIXEL_PARTS:
            r[f"{kind} person 0 (warm)"] = timed(lambda k=kind: d(k, person=0), max(1, args.runs // 2), False)
        a = P.analyse(inp)
        r["peer: refine_alpha on the person matte"] = timed(lambda: refine_alpha(img, a.prob), args.runs, False)
        rows.append((f"{path.name} {img.shape[1]}x{img.shape[0]}", r))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"people masks, median of {args.runs} runs, {os.environ['MASKROOM_ONNX_THREADS']} threads, "
          f"{PREVIEW} px preview, load average {load:.1f} on {os.cpu_count()} cores")
    for name, r in rows:
        print(f"\n{name}")
        peer = r["peer: refine_alpha on the person matte"][0]
        print(f"  {'step':<42}{'wall s':>9}{'cpu s':>9}{'wall x peer':>13}")
        for k, (v, c) in r.items():
            print(f"  {k:<42}{v:>9.3f}{c:>9.3f}{v / peer:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
