"""Mask kinds at the 2048 px preview: seconds per image, refinement on vs off.

    python bench/masks_bench.py [--reps 3]

Uses the shipped samples.  Models run with MASKROOM_ONNX_THREADS (default here 2,
the target machine's cores); sessions are created once, before timing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("MASKROOM_ONNX_THREADS", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from maskroom.engine.masks import sky as SK  # noqa: E402
from maskroom.engine.masks.evaluate import load_rgb  # noqa: E402
from maskroom.engine.masks.objects import object_alpha  # noqa: E402
from maskroom.engine.masks.refine import refine_alpha, upsample  # noqa: E402
from maskroom.engine.masks.subject import subject_alpha  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "maskroom" / "data" / "samples"
IMAGES = ["immich_el_torcal_rocks.jpg", "immich_tanners_ridge.jpg", "immich_prairie_falcon.jpg"]


def at_2048(img: np.ndarray) -> np.ndarray:
    """Samples are small: upsample to the 2048 px preview size the target is set for."""
    h, w = img.shape[:2]
    s = 2048 / max(h, w)
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)


def timeit(fn, reps):
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    cv2.setNumThreads(int(os.environ["MASKROOM_ONNX_THREADS"]))
    imgs = [at_2048(load_rgb(SAMPLES / n)) for n in IMAGES]
    SK.sky_probabilities(imgs[0])  # sessions created once, outside the timing
    rows = []
    for name, img in zip(IMAGES, imgs):
        probs = SK.sky_probabilities(img)
        p = SK.fuse(*probs)
        rows.append((name, "sky models (2 ONNX, 384 px)", timeit(lambda: SK.sky_probabilities(img), args.reps)))
        rows.append((name, "sky refine (full res)", timeit(lambda: refine_alpha(img, p), args.reps)))
        rows.append((name, "sky bilinear upsample (peer)", timeit(lambda: upsample(p, img.shape[:2]), args.reps)))
        rows.append((name, "sky total", timeit(lambda: SK.sky_alpha(img), args.reps)))
        rows.append((name, "subject total", timeit(lambda: subject_alpha(img), args.reps)))
        rows.append((name, "subject w/o refine (peer)", timeit(lambda: subject_alpha(img, refine=False), args.reps)))
        rows.append((name, "object box", timeit(lambda: object_alpha(img, {"box": [0.25, 0.3, 0.65, 0.7]}), args.reps)))
    print(f"{'image':<30} {'step':<32} {'median s':>9}")
    for name, step, secs in rows:
        print(f"{name:<30} {step:<32} {secs:9.3f}")
    by = {}
    for _, step, secs in rows:
        by.setdefault(step, []).append(secs)
    print("\nmedian over images")
    for step, v in by.items():
        print(f"  {step:<32} {statistics.median(v):.3f} s")
    ratio = statistics.median(by["sky refine (full res)"]) / max(statistics.median(by["sky bilinear upsample (peer)"]), 1e-9)
    print(f"  refine / bilinear upsample: {ratio:.0f}x")


if __name__ == "__main__":
    main()
