"""Contact sheet of every people part on every portrait (for looking, not shipped data).

    python scripts/people_contact.py [--out out/contact_people.png] [images...]

Rows = photos, columns = person (all people, per-person tints) and the parts; each
cell is the photo with the part drawn over it in a colour.  Default photos: the
portraits in /work/shared/samples/portraits.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.overlay import load_rgb
from maskroom.engine.masks.registry import MaskInput
from maskroom.core.recipe import MaskComponent

PARTS = ("person", "face-skin", "body-skin", "eyebrows", "sclera", "iris", "lips", "teeth", "hair", "clothes")
TINTS = [(1.0, 0.2, 0.2), (0.2, 0.5, 1.0), (0.2, 1.0, 0.3), (1.0, 0.8, 0.1), (0.9, 0.2, 0.9), (0.1, 0.9, 0.9)]
CELL = 300


def overlay(img, alpha, colour=(1.0, 0.2, 0.2)):
    a = alpha[..., None] * 0.6
    return img * (1 - a) + np.array(colour, np.float32) * a


def crop_to(img, box):
    if box is None:
        return img
    h, w = img.shape[:2]
    x0, y0, x1, y1 = box
    return img[int(y0 * h):max(int(y0 * h) + 2, int(y1 * h)), int(x0 * w):max(int(x0 * w) + 2, int(x1 * w))]


def cell(img, label):
    h, w = img.shape[:2]
    s = CELL / max(h, w)
    small = cv2.resize(img, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
    out = np.full((CELL + 18, CELL, 3), 0.12, np.float32)
    out[18:18 + small.shape[0], :small.shape[1]] = small
    u8 = (np.clip(out, 0, 1) * 255).astype(np.uint8)
    cv2.putText(u8, label, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return u8


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=Path("out/contact_people.png"))
    ap.add_argument("--long-edge", type=int, default=2048)
    args = ap.parse_args(argv)
    paths = args.images or sorted(Path("/work/shared/samples/portraits").iterdir())
    rows = []
    for path in paths:
        try:
            img = load_rgb(path)
        except Exception as exc:
            print(f"{path}: cannot read ({exc})", file=sys.stderr)
            continue
        h, w = img.shape[:2]
        s = min(1.0, args.long_edge / max(h, w))
        if s < 1:
            img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        inp = MaskInput(img, digest=f"contact:{path.name}")
        t0 = time.perf_counter()
        res = derive(inp, MaskComponent("person"))
        people = (res.info or {}).get("people", [])
        # The first face with landmarks: the face parts are shown zoomed on it.
        zoom = next((p for p in people if p.get("landmarks")), None)
        zbox = None
        if zoom:
            x0, y0, x1, y1 = zoom["face_box"]
            pad = 0.25 * max(x1 - x0, y1 - y0)
            zbox = (max(0, x0 - pad), max(0, y0 - pad), min(1, x1 + pad), min(1, y1 + pad))
        cells = [cell(img, f"{path.name[:28]}")]
        tinted = img.copy()
        for p in people:
            r = derive(inp, MaskComponent("person", params={"person": p["index"]}))
            tinted = overlay(tinted, r.alpha, TINTS[p["index"] % len(TINTS)])
            fb = p.get("face_box")
            if fb:
                u = (np.clip(tinted, 0, 1))
                cv2.rectangle(u, (int(fb[0] * img.shape[1]), int(fb[1] * img.shape[0])),
                              (int(fb[2] * img.shape[1]), int(fb[3] * img.shape[0])), (1, 1, 0), 2)
        cells.append(cell(tinted, f"people: {len(people)}"))
        line = [f"{path.name}: {len(people)} people"]
        for kind in PARTS[1:]:
            r = derive(inp, MaskComponent(kind, params={"person": zoom["index"]} if zoom else {}))
            view = overlay(img, r.alpha, (1.0, 0.15, 0.15) if kind not in ("sclera",) else (0.1, 0.4, 1.0))
            if kind in ("eyebrows", "sclera", "iris", "lips", "teeth", "face-skin"):
                view = crop_to(view, zbox)
            cells.append(cell(view, f"{kind}{'' if r.found else ' (not found)'}"))
            line.append(f"{kind}={'Y' if r.found else '-'}")
        print(" ".join(line), f"{time.perf_counter() - t0:.2f}s")
        rows.append(np.hstack(cells))
    if not rows:
        return 1
    sheet = np.vstack(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet[..., ::-1])
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
