"""Mask kinds at the 2048 px preview: seconds per image (wall and CPU), median of runs.

    python bench/masks_bench.py [--reps 5] [--kinds sky,subject,object]

Uses the shipped samples, upsampled to the 2048 px preview the speed target is set
for.  Models run with MASKROOM_ONNX_THREADS (default here 2, the target machine's
cores) and OpenCV with as many threads; sessions are created once, before timing.
Each row is the median of ``--reps`` runs of wall-clock seconds and of this
process's CPU seconds (all threads); the load average when measured is printed,
since the machine the numbers come from may be shared.  Peers in the same run:
plain bilinear upsampling of the sky matte (what refinement replaces), the fp32
U²-Netp the shipped int8 one is made from, the classical subject (with and
without refinement and its focus and sky cues) against the shipped salient one, and
the GrabCut object box against the salient crop, and the sky mask with its two
models and preparation one after the other in one thread against the shipped one
(U²-Netp in a worker thread while EGE and the photo's preparation run), interleaved.
U²-Netp (and the sky total) also runs on the 384x384 square, the photo squeezed, as
before it kept the photo's shape (``sky.u2_size``): the int8 file there, and the fp32
file, which takes only that size; interleaved with the shipped run.
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

from maskroom.core.recipe import MaskComponent  # noqa: E402
from maskroom.engine.masks import sky as SK  # noqa: E402
from maskroom.engine.masks.overlay import load_rgb  # noqa: E402
from maskroom.engine.masks.refine import refine_alpha, upsample  # noqa: E402
from maskroom.engine.masks.registry import MaskInput  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "maskroom" / "data" / "samples"
IMAGES = ["immich_el_torcal_rocks.jpg", "immich_tanners_ridge.jpg", "immich_prairie_falcon.jpg"]
SKYLESS = "immich_portrait_curies.jpg"  # EGE sees no sky: U²-Netp is skipped


def at_2048(img: np.ndarray) -> np.ndarray:
    """Samples are small: upsample to the 2048 px preview size the target is set for."""
    h, w = img.shape[:2]
    s = 2048 / max(h, w)
    return cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)


def timeit(fn, reps) -> tuple[float, float]:
    """Median wall and CPU seconds of ``reps`` calls."""
    wall, cpu = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def timeit_interleaved(fns: dict, reps) -> dict:
    """Like timeit for several functions, run in turn each rep (same machine load for all)."""
    times = {k: ([], []) for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            times[k][0].append(time.perf_counter() - t)
            times[k][1].append(time.process_time() - c)
    return {k: (statistics.median(w), statistics.median(c)) for k, (w, c) in times.items()}


def sky_alpha_with(model_u2: str, img):
    """sky_alpha with another U²-Netp file, on the 384x384 square (the photo squeezed): the
    fp32 peer of the shipped int8 one (its file takes only that size), or the int8 file as
    the sky mask ran it before U²-Netp kept the photo's shape."""
    shipped = SK.MODEL_U2, SK.u2_size
    SK.MODEL_U2, SK.u2_size = model_u2, lambda h, w: (SK.SIZE, SK.SIZE)
    try:
        return SK.sky_alpha(img)
    finally:
        SK.MODEL_U2, SK.u2_size = shipped


def sky_one_thread(img):
    """The sky mask one step after the other, as in a process allowed one thread: the
    peer of running U²-Netp beside EGE."""
    from maskroom.engine.executor import threads

    shipped, SK._start = SK._start, threads.Later
    try:
        return SK.sky_alpha(img)
    finally:
        SK._start = shipped


def sky_kind(img):
    """The sky kind as a mask derives it (with the portrait-backdrop gate), uncached."""
    return SK.sky(MaskInput(image=img, digest=f"bench-{time.perf_counter_ns()}"), MaskComponent(kind="sky"))


def sky_rows(name, img, reps):
    small = SK.model_size(img)
    u2_in, ege_in = SK.model_inputs(img, small)
    square_in = np.ascontiguousarray(((small - SK._MEAN) / SK._STD).transpose(2, 0, 1))
    probs = SK.sky_probabilities(img, small)
    p = SK.fuse(*probs, small=small)
    return [
        (name, "sky input prep (resize, normalise)", timeit(lambda: SK.model_inputs(img, SK.model_size(img)), reps)),
        (name, "sky model EGE-UNet (384 px)", timeit(lambda: SK._run(SK.MODEL_EGE, ege_in), reps)),
    ] + [(name, step, secs) for step, secs in timeit_interleaved({
        "sky model U2-Netp int8 (shape kept)": lambda: SK._run(SK.MODEL_U2, u2_in),
        "peer: U2-Netp int8 (384x384 square)": lambda: SK._run(SK.MODEL_U2, square_in),
        "peer: U2-Netp fp32 (384x384 square)": lambda: SK._run(SK.MODEL_U2_FP32, square_in),
    }, reps).items()] + [
        (name, "sky fusion + region rules", timeit(lambda: SK.fuse(*probs, small=small), reps)),
        (name, "sky refine (full res)", timeit(
            lambda: refine_alpha(img, p, work_edge=SK.REFINE_EDGE, uncertain=SK.UNCERTAIN), reps)),
        (name, "peer: bilinear upsample", timeit(lambda: upsample(p, img.shape[:2]), reps)),
    ] + [(name, step, secs) for step, secs in timeit_interleaved({
        "sky total (sky_alpha)": lambda: SK.sky_alpha(img),
        "peer: sky total, one thread": lambda: sky_one_thread(img),
        "peer: sky total, U2 int8 on the square": lambda: sky_alpha_with(SK.MODEL_U2, img),
        "peer: sky total, U2 fp32 on the square": lambda: sky_alpha_with(SK.MODEL_U2_FP32, img),
        "sky kind (with the portrait gate)": lambda: sky_kind(img),
    }, reps).items()]


def subject_rows(name, img, reps):
    """The classical subject path's steps (engine/masks/subject.py), then its total."""
    from maskroom.engine.masks import salient as SA, subject as SU

    mid = SU._to_work(img, SU.FOCUS_WORK)
    work = SU._to_work(mid)
    shape = work.shape[:2]
    in_focus, sky = SU.focus(mid, shape), SU.sky_probability(mid, shape)
    sal = SU.saliency(work, in_focus=in_focus, sky=sky)
    return [
        (name, "subject resize to 640/320 px", timeit(lambda: SU._to_work(SU._to_work(img, SU.FOCUS_WORK)), reps)),
        (name, "subject focus cue (640 px)", timeit(lambda: SU.focus(mid, shape), reps)),
        (name, "subject sky cue (EGE, 384 px)", timeit(lambda: SU.sky_probability(mid, shape), reps)),
        (name, "subject saliency (barrier, colour, SR)",
         timeit(lambda: SU.saliency(work, in_focus=in_focus, sky=sky), reps)),
        (name, "subject GrabCut (320 px, converged)", timeit(lambda: SU.grabcut_from_saliency(work, sal), reps)),
        (name, "peer: classical subject total", timeit(lambda: SU.subject_alpha(img), reps)),
        (name, "peer: classical w/o refine", timeit(lambda: SU.subject_alpha(img, refine=False), reps)),
        (name, "peer: classical w/o focus+sky cues", timeit(lambda: SU.subject_alpha(img, cues=False), reps)),
        (name, "salient model U2-Netp int8 (320 px)", timeit(lambda: SA.raw_map(img), reps)),
        (name, "subject total (salient, shipped)", timeit(lambda: SU.salient_subject_alpha(img), reps)),
        (name, "peer: salient subject w/o refine", timeit(lambda: SU.salient_subject_alpha(img, refine=False), reps)),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--kinds", default="sky,subject,object")
    args = ap.parse_args()
    kinds = set(args.kinds.split(","))
    cv2.setNumThreads(int(os.environ["MASKROOM_ONNX_THREADS"]))
    imgs = [at_2048(load_rgb(SAMPLES / n)) for n in IMAGES]
    SK.sky_probabilities(imgs[0])  # sessions created once, outside the timing
    if "sky" in kinds:
        sky_alpha_with(SK.MODEL_U2_FP32, imgs[0])  # the fp32 peer's session too
    load_before = os.getloadavg()
    rows = []
    for name, img in zip(IMAGES, imgs):
        if "sky" in kinds:
            rows += sky_rows(name, img, args.reps)
        if "subject" in kinds:
            rows += subject_rows(name, img, args.reps)
        if "object" in kinds:
            from maskroom.engine.masks.objects import object_alpha, salient_object_alpha

            box = {"box": [0.25, 0.3, 0.65, 0.7]}
            rows.append((name, "object box (salient crop, shipped)",
                         timeit(lambda: salient_object_alpha(img, box), args.reps)))
            rows.append((name, "peer: object box GrabCut", timeit(lambda: object_alpha(img, box), args.reps)))
    if "sky" in kinds:
        skyless = at_2048(load_rgb(SAMPLES / SKYLESS))
        rows += [(SKYLESS, step, secs) for step, secs in timeit_interleaved({
            "sky total, no sky (U2 stopped)": lambda: SK.sky_alpha(skyless),
            "peer: no sky, one thread (U2 skipped)": lambda: sky_one_thread(skyless),
        }, args.reps).items()]
    load_after = os.getloadavg()
    print(f"{'image':<30} {'step':<36} {'wall s':>8} {'CPU s':>8}")
    for name, step, (wall, cpu) in rows:
        print(f"{name:<30} {step:<36} {wall:8.3f} {cpu:8.3f}")
    by: dict[str, list] = {}
    for _, step, secs in rows:
        by.setdefault(step, []).append(secs)
    print(f"\nmedian over images ({args.reps} runs each; load average 1 min {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after, on {os.cpu_count()} cores)")
    for step, v in by.items():
        wall, cpu = statistics.median(s[0] for s in v), statistics.median(s[1] for s in v)
        print(f"  {step:<36} wall {wall:.3f} s   CPU {cpu:.3f} s")
    if "sky" in kinds:
        ref = statistics.median(s[1] for s in by["sky refine (full res)"])
        peer = statistics.median(s[1] for s in by["peer: bilinear upsample"])
        print(f"  sky refine / bilinear upsample (CPU): {ref / max(peer, 1e-9):.0f}x")


if __name__ == "__main__":
    main()
