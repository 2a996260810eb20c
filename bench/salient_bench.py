"""Subject and object box at the 2048 px preview: the int8 salient model against its fp32 peer.

    python bench/salient_bench.py [REPS]

CPU seconds (this process, all threads; 2 onnxruntime/OpenCV threads), median over the
three bench photos x REPS runs, interleaved so each peer sees the same machine load.
Peers: the fp32 U²-Netp alone, and the subject / object box as they were before the int8
file (fp32 model, no box-span rule), run through the same code with the fp32 file.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("MASKROOM_ONNX_THREADS", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from maskroom.engine.masks import model_store  # noqa: E402
from maskroom.engine.masks import objects as OB  # noqa: E402
from maskroom.engine.masks import salient as SA  # noqa: E402
from maskroom.engine.masks import subject as SU  # noqa: E402
from maskroom.engine.masks.overlay import load_rgb  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from masks_bench import IMAGES, SAMPLES, at_2048  # noqa: E402

BOX = {"box": [0.25, 0.3, 0.65, 0.7]}


def fp32_model(img: np.ndarray) -> np.ndarray:
    sess = model_store.get_session(SA.MODEL_FP32)
    return sess.run(None, {"input.1": SA.model_input(img)})[0]


def before(fn):
    """``fn`` with the fp32 file and without the box-span rule (what main ran)."""
    def run(img):
        defaults, span = SA.raw_map.__defaults__, OB.MIN_SPAN
        SA.raw_map.__defaults__, OB.MIN_SPAN = (SA.MODEL_FP32,), 0.0
        try:
            return fn(img)
        finally:
            SA.raw_map.__defaults__, OB.MIN_SPAN = defaults, span
    return run


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    cv2.setNumThreads(int(os.environ["MASKROOM_ONNX_THREADS"]))
    imgs = [at_2048(load_rgb(SAMPLES / n)) for n in IMAGES]
    subject = SU.salient_subject_alpha
    obj = lambda im: OB.salient_object_alpha(im, BOX)  # noqa: E731
    fns = {"salient model int8 (320 px)": SA.raw_map, "peer: salient model fp32": fp32_model,
           "subject (salient)": subject, "peer: subject before (fp32)": before(subject),
           "object box (salient)": obj, "peer: object box before (fp32, no span rule)": before(obj)}
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
    print(f"CPU s median ({reps} runs x {len(imgs)} photos; load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after)")
    for k, v in cpu.items():
        print(f"  {k:<46} {statistics.median(v):.3f}")


if __name__ == "__main__":
    main()
