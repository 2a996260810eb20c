"""Measure the mask kinds on /work/shared/pairs-dev (not shipped; measurement only).

    python scripts/eval_pairs.py [--sets sky,subject,person,object] [--limit N] [--panels out/panels]

Prints per set: mean IoU, false-positive rate on empty ground truths, worst five,
median seconds.  For the subject it also runs a plain saliency baseline (spectral
residual, Otsu threshold) on the same pairs so the classical pipeline is compared
honestly.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from maskroom.engine.masks.overlay import load_rgb

# `tools` is the checkout's own folder (not installed): found from here, not from the cwd.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.evaluate import evaluate_kind, find_pairs, iou, load_mask, write_panel  # noqa: E402

PAIRS = Path("/work/shared/pairs-dev")
SETS = {
    "sky": [("ADE20K_sky", "masks"), ("CamVid_test", "masks"), ("xiongzhu_sky_predmasks", "masks")],
    "subject": [("SOD_BSDS300", "masks")],
    "person": [("HumanSeg_removebg", "masks"), ("CamVid_test", "masks_person")],
    # A loose box round each truth (OBJECT_BOX_MARGIN of its size per side) as the prompt.
    "object": [("SOD_BSDS300", "masks"), ("HumanSeg_removebg", "masks")],
}
OBJECT_BOX_MARGIN = 0.05


def spectral_residual_baseline(images: Path, masks: Path, limit=None) -> dict:
    from maskroom.engine.masks.subject import _otsu, spectral_residual

    ious, secs = [], []
    for pid, img_path, mask_path in find_pairs(images, masks)[:limit]:
        img, truth = load_rgb(img_path), load_mask(mask_path)
        t0 = time.perf_counter()
        sal = spectral_residual(img)
        pred = sal > _otsu(sal)
        secs.append(time.perf_counter() - t0)
        if truth.any():
            ious.append(iou(cv2.resize(pred.astype(np.uint8), truth.shape[::-1]) > 0, truth))
    return {"mean_iou": float(np.mean(ious)), "median_seconds": float(np.median(secs)), "pairs": len(ious)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="sky,subject")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--panels", type=Path)
    ap.add_argument("--json", type=Path, help="Write all results here.")
    args = ap.parse_args(argv)
    if not PAIRS.exists():
        print(f"{PAIRS}: not here (measurement data is not shipped)", file=sys.stderr)
        return 1
    results = {}
    for kind in args.sets.split(","):
        for name, mask_dir in SETS[kind]:
            keep = {} if args.panels else None
            rep = evaluate_kind(kind, PAIRS / name / "images", PAIRS / name / mask_dir, limit=args.limit, keep=keep,
                                box_margin=OBJECT_BOX_MARGIN if kind == "object" else None)
            s = rep.summary()
            results[f"{kind}/{name}"] = rep.to_dict()
            fp = "-" if s["false_positive_rate"] is None else f"{s['false_positive_rate']:.2%} ({s['negatives_over_1pct']}/{s['negatives']} over 1%)"
            print(f"{kind:<8} {name:<24} n={s['pairs']:<4} mean IoU {s['mean_iou']:.4f}  false sky/neg {fp}  "
                  f"{s['median_seconds']:.3f}s/img  errors {s['errors']}")
            print("    worst: " + ", ".join(f"{w['id']} {w['iou']:.3f}" for w in s["worst"]))
            if keep is not None:
                worst = sorted(rep.scored, key=lambda p: p.iou)[:5] + sorted(rep.negatives, key=lambda p: -p.false_positive)[:3]
                for p in worst:
                    img_path, alpha, truth = keep[p.id]
                    label = f"{p.id} IoU {p.iou:.3f}" if p.iou is not None else f"{p.id} false {p.false_positive:.1%}"
                    write_panel(args.panels / f"{kind}_{name}_{p.id}.png", load_rgb(img_path), alpha, truth, label)
            if kind == "subject":
                base = spectral_residual_baseline(PAIRS / name / "images", PAIRS / name / mask_dir, args.limit)
                results[f"baseline/{name}"] = base
                print(f"baseline {name:<24} n={base['pairs']:<4} mean IoU {base['mean_iou']:.4f}  "
                      f"(spectral residual + Otsu)  {base['median_seconds']:.3f}s/img")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
