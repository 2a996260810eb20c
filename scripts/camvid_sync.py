"""Measure sync on CamVid 0001TP (62 consecutive frames with human sky labels).

A sky mask and an object box (on the biggest car of frame 1) are set on the first
frame and synced to the other 61 frames.  Per frame it prints the IoU against the
ground truth of:

* the synced sky vs deriving the sky on that frame on its own (must agree within
  0.01 mean IoU: sync re-derives, it does not warp);
* the synced object (box carried by frame alignment, refined on the frame) vs the
  object derived with that frame's own ground-truth box of the same car.

Needs /work/shared/pairs-dev (research data: measure only, never commit).
Usage: python scripts/camvid_sync.py [--frames N] [--out DIR] [--jobs N]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

DATA = Path("/work/shared/pairs-dev/CamVid_test")
CAR = 8  # CamVid 11-class map: 0 sky ... 8 car, 9 pedestrian


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    u = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / u) if u else 1.0


def car_components(label: np.ndarray) -> list[tuple[np.ndarray, list[float]]]:
    """(mask, normalised box) of each car blob, biggest first."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats((label == CAR).astype(np.uint8), connectivity=8)
    h, w = label.shape
    out = []
    for i in np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1:
        x, y, bw, bh, area = stats[i]
        if area < 200:
            continue
        out.append((lab == i, [x / w, y / h, (x + bw) / w, (y + bh) / h]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=62)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "camvid_sync")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if not DATA.is_dir():
        print(f"{DATA}: not found (measurement data)", file=sys.stderr)
        return 1
    from sqlalchemy import select

    from maskroom.catalog import Catalog, edits
    from maskroom.catalog.schema import Image
    from maskroom.engine.importer import run_import
    from maskroom.engine.masks.cache import CachedResolver
    from maskroom.engine.mask_refresh import mask_input
    from maskroom.engine.masks.compose import compose, derive
    from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
    from maskroom.engine.sync.engine import run_sync
    from maskroom.engine.sync.transfer import box_iou

    names = sorted(p.name for p in (DATA / "images").iterdir())[: args.frames]
    work = Path(tempfile.mkdtemp(prefix="camvid_sync_"))
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        shoot = work / "frames"
        shoot.mkdir()
        for n in names:
            shutil.copy(DATA / "images" / n, shoot / n)
        cat = Catalog.open(work / "catalog.sqlite")
        run_import(cat, [shoot], jobs=1)
        with cat.session() as s:
            rows = {Path(p).name: i for i, p in s.execute(select(Image.id, Image.path))}
        ids = [rows[n] for n in names]
        labels = [cv2.imread(str(DATA / "labels" / n), cv2.IMREAD_UNCHANGED) for n in names]
        skies = [cv2.imread(str(DATA / "masks" / n), cv2.IMREAD_GRAYSCALE) > 127 for n in names]
        car_mask0, car_box0 = car_components(labels[0])[0]
        sky = MaskComponent("sky")
        obj = MaskComponent("object", params={"box": [round(v, 4) for v in car_box0]})
        with cat.session() as s:
            vid = edits.get_version(s, ids[0]).id
            edits.save_recipe(s, vid, Recipe(layers=[
                Layer("Global"), Layer("Sky", adjustments={"exposure": -0.5}, mask=MaskDefinition([sky])),
                Layer("Car", adjustments={"saturation": 20}, mask=MaskDefinition([obj]))]), "camvid edit")
        t0 = time.perf_counter()
        rep = run_sync(cat, ids[0], ids[1:], jobs=args.jobs)
        t_sync = time.perf_counter() - t0
        by_id = {t.image_id: t for t in rep.targets}
        print(f"sync: {len(ids) - 1} frames in {t_sync:.1f} s ({t_sync / max(1, len(ids) - 1):.2f} s/frame, "
              f"jobs={args.jobs}); {rep.flagged} components flagged for review")
        print(f"{'frame':<20} {'align':<15} {'q':>5} {'sky sync':>9} {'sky own':>8} {'d':>7} "
              f"{'car sync':>9} {'car own':>8} {'flags'}")
        rows_out = []
        prev_box = car_box0
        for k, (iid, name) in enumerate(zip(ids, names)):
            with cat.session() as s:
                v = edits.get_version(s, iid).id
                recipe = edits.load_recipe(s, v)
            inp = mask_input(cat, iid)
            gh, gw = skies[k].shape

            def at_gt(a):
                return cv2.resize(a, (gw, gh), interpolation=cv2.INTER_LINEAR)

            synced_sky = at_gt(compose(recipe.layer("Sky").mask, inp, CachedResolver(cat, v)))
            own_sky = at_gt(derive(inp, MaskComponent("sky")).alpha)
            synced_car = at_gt(compose(recipe.layer("Car").mask, inp, CachedResolver(cat, v)))
            # Ground truth for "the same car": the car blob best overlapping the car's last known box.
            comps = car_components(labels[k])
            car_iou_s = car_iou_o = float("nan")
            if comps:
                gt_mask, gt_box = max(comps, key=lambda c: box_iou(c[1], prev_box))
                if box_iou(gt_box, prev_box) > 0.1:
                    prev_box = gt_box
                    own_car = at_gt(derive(inp, MaskComponent("object", params={"box": gt_box})).alpha)
                    car_iou_s, car_iou_o = iou(synced_car, gt_mask), iou(own_car, gt_mask)
            t = by_id.get(iid)
            al = t.alignment if t else {"method": "source", "quality": 1.0}
            flags = ";".join(c.layer for c in (t.components if t else []) if c.flag)
            r = (name, al["method"], al["quality"], iou(synced_sky, skies[k]), iou(own_sky, skies[k]),
                 car_iou_s, car_iou_o, flags)
            rows_out.append(r)
            print(f"{r[0]:<20} {r[1]:<15} {r[2]:>5.2f} {r[3]:>9.3f} {r[4]:>8.3f} {r[3] - r[4]:>+7.3f} "
                  f"{r[5]:>9.3f} {r[6]:>8.3f} {r[7]}")
            if k in (0, len(ids) // 2, len(ids) - 1):
                img = cv2.cvtColor((np.clip(inp.image, 0, 1) * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
                img = cv2.resize(img, (gw, gh))
                over = img.copy()
                over[synced_sky > 0.5] = (0.5 * over[synced_sky > 0.5] + (128, 64, 0)).astype(np.uint8)
                over[synced_car > 0.5] = (0.5 * over[synced_car > 0.5] + (0, 0, 128)).astype(np.uint8)
                cv2.imwrite(str(args.out / f"camvid_{k:02d}.png"), np.hstack([img, over]))
        arr = np.array([r[3:7] for r in rows_out], float)
        tgt = arr[1:]
        print(f"{'mean (targets)':<20} {'':<15} {'':>5} {np.nanmean(tgt[:, 0]):>9.3f} {np.nanmean(tgt[:, 1]):>8.3f} "
              f"{np.nanmean(tgt[:, 0]) - np.nanmean(tgt[:, 1]):>+7.3f} {np.nanmean(tgt[:, 2]):>9.3f} "
              f"{np.nanmean(tgt[:, 3]):>8.3f}")
        in_view = [r for r in rows_out[1:] if not np.isnan(r[5])]
        gone = [r for r in rows_out[1:] if np.isnan(r[5])]
        print(f"car: the first frame's car is in view (ground truth) on {len(in_view)} of {len(rows_out) - 1} "
              f"targets; 'Car' flagged for review on {sum('Car' in r[7] for r in in_view)} of those and on "
              f"{sum('Car' in r[7] for r in gone)} of the {len(gone)} where it is gone")
        print(f"sky: flagged for review on {sum('Sky' in r[7] for r in rows_out[1:])} targets")
        worst = sorted(rows_out[1:], key=lambda r: r[3])[:5]
        print("worst sky (synced):", ", ".join(f"{r[0]} {r[3]:.3f}" for r in worst))
        print(f"overlays: {args.out}/camvid_*.png (left: frame, right: synced sky blue, car red)")
        cat.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
