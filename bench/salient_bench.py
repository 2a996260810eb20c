"""Subject and object box at the 2048 px preview, against the int8 salient model alone.

    python bench/salient_bench.py [REPS]

CPU and wall seconds (this process, all threads; 2 onnxruntime/OpenCV threads), median
and maximum over the three bench photos x REPS runs, interleaved so each row sees the same
machine load.  Peers: the int8 U²-Netp run once (what the subject and the object box cost
at the least), and the subject on that one pass instead of the map averaged with the mirror
image (``salient.averaged_map``), run through the same code with ``averaged_map`` switched to
``raw_map``.  The object box runs the one pass (see ``salient.MIRROR_SIZE``).
"""
from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("MASKROOM_ONNX_THREADS", "2")

import cv2  # noqa: E402

from maskroom.engine.masks import objects as OB  # noqa: E402
from maskroom.engine.masks import salient as SA  # noqa: E402
from maskroom.engine.masks import subject as SU  # noqa: E402
from maskroom.engine.masks.overlay import load_rgb  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from masks_bench import IMAGES, SAMPLES, at_2048  # noqa: E402

BOX = {"box": [0.25, 0.3, 0.65, 0.7]}


def one_pass(fn):
    """``fn`` on the model's single pass (no mirrored pass averaged in)."""
    def run(img):
        saved = SA.averaged_map
        SA.averaged_map = SA.raw_map
        try:
            return fn(img)
        finally:
            SA.averaged_map = saved
    return run


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    cv2.setNumThreads(int(os.environ["MASKROOM_ONNX_THREADS"]))
    imgs = [at_2048(load_rgb(SAMPLES / n)) for n in IMAGES]
    subject = SU.salient_subject_alpha
    obj = lambda im: OB.salient_object_alpha(im, BOX)  # noqa: E731
    fns = {"peer: salient model int8, one pass (320 px)": SA.raw_map,
           f"salient map (320 + mirror {SA.MIRROR_SIZE} px)": SA.averaged_map,
           "subject (salient)": subject, "peer: subject on one pass": one_pass(subject),
           "object box (salient)": obj}
    for fn in fns.values():  # sessions created outside the timing
        fn(imgs[0])
    cpu = {k: [] for k in fns}
    wall = {k: [] for k in fns}
    load = os.getloadavg()[0]
    for _ in range(reps):
        for img in imgs:
            for k, fn in fns.items():
                c, t = time.process_time(), time.perf_counter()
                fn(img)
                cpu[k].append(time.process_time() - c)
                wall[k].append(time.perf_counter() - t)
    print(f"CPU s ({reps} runs x {len(imgs)} photos; load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after)")
    print(f"  {'':<46} CPU median    max   wall median    max")
    for k, v in cpu.items():
        w = wall[k]
        print(f"  {k:<46} {statistics.median(v):10.3f} {max(v):6.3f} {statistics.median(w):11.3f} {max(w):6.3f}")


if __name__ == "__main__":
    main()
