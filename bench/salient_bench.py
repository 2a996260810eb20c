"""Subject and object box at the 2048 px preview, against the int8 salient model alone.

    python bench/salient_bench.py [REPS]

CPU seconds (this process, all threads; 2 onnxruntime/OpenCV threads), median and
maximum over the three bench photos x REPS runs, interleaved so each row sees the same
machine load.  Peers: the int8 U²-Netp run alone (what the subject and the object box
cost at the least), and the subject / object box as they were before the refinement
worked in the box round the outline (``refine_alpha(window=True)``) and the object's
span GrabCut at 160 px (``objects.SPAN_WORK``), run through the same code with those
two switched back.
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
from maskroom.engine.masks.refine import refine_alpha  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from masks_bench import IMAGES, SAMPLES, at_2048  # noqa: E402

BOX = {"box": [0.25, 0.3, 0.65, 0.7]}


def before(fn):
    """``fn`` with whole-frame refinement and the span GrabCut at the 320 px working size."""
    def whole_frame(image, coarse, **kw):
        return refine_alpha(image, coarse, **{**kw, "window": False})

    def run(img):
        saved = SU.refine_alpha, OB.refine_alpha, OB.SPAN_WORK
        SU.refine_alpha, OB.refine_alpha, OB.SPAN_WORK = whole_frame, whole_frame, OB.WORK
        try:
            return fn(img)
        finally:
            SU.refine_alpha, OB.refine_alpha, OB.SPAN_WORK = saved
    return run


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    cv2.setNumThreads(int(os.environ["MASKROOM_ONNX_THREADS"]))
    imgs = [at_2048(load_rgb(SAMPLES / n)) for n in IMAGES]
    subject = SU.salient_subject_alpha
    obj = lambda im: OB.salient_object_alpha(im, BOX)  # noqa: E731
    fns = {"peer: salient model int8 (320 px)": SA.raw_map,
           "subject (salient)": subject, "peer: subject before (whole-frame refine)": before(subject),
           "object box (salient)": obj, "peer: object box before (+ span GrabCut 320)": before(obj)}
    for fn in fns.values():  # sessions created outside the timing
        fn(imgs[0])
    cpu = {k: [] for k in fns}
    load = os.getloadavg()[0]
    for _ in range(reps):
        for img in imgs:
            for k, fn in fns.items():
                c = time.process_time()
                fn(img)
                cpu[k].append(time.process_time() - c)
    print(f"CPU s ({reps} runs x {len(imgs)} photos; load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after)         median    max")
    for k, v in cpu.items():
        print(f"  {k:<46} {statistics.median(v):6.3f} {max(v):6.3f}")


if __name__ == "__main__":
    main()
