"""Contact sheets of every people kind on the people hard-case set (for grading by eye;
scripts/people_contact.py draws the parts of any photos with per-person tints).

    python scripts/people_hard_cases.py [--out out/people] [--edge 1024] [--only ID,ID] [--json results.json]

One block per case (bench/data/people_hard_cases.json, variants made by
tools/hard_cases.py): the first row shows the photo, person, hair, clothes and body
skin over the whole frame; the second row zooms on the largest face found (the whole
frame when none) for face skin, eyebrows, sclera, iris, lips and teeth.  Each cell says
the covered fraction or "none", and "!" when the result carries a warning; the
warnings are printed and, with --json, written with the coverages (to compare before
and after a change).  Masks are derived through the registry as the app derives them.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import mask_contact  # noqa: E402
from mask_contact import describe, sheet_args, write_pages  # noqa: E402
from maskroom.core.recipe import MaskComponent  # noqa: E402
from maskroom.engine.masks.compose import derive  # noqa: E402
from maskroom.engine.masks.overlay import overlay  # noqa: E402
from maskroom.engine.masks.people import analyse  # noqa: E402
from maskroom.engine.masks.registry import MaskInput  # noqa: E402
from tools import hard_cases  # noqa: E402

WHOLE = ("person", "hair", "clothes", "body-skin")
FACE = ("face-skin", "eyebrows", "sclera", "iris", "lips", "teeth")
COLOURS = {"person": (0.1, 0.9, 0.2), "hair": (1.0, 0.6, 0.0), "clothes": (0.2, 0.4, 1.0),
           "body-skin": (1.0, 0.1, 0.6), "face-skin": (1.0, 0.1, 0.6), "eyebrows": (1.0, 0.6, 0.0),
           "sclera": (0.1, 1.0, 1.0), "iris": (0.1, 0.9, 0.2), "lips": (1.0, 0.1, 0.1), "teeth": (0.2, 0.4, 1.0)}
CELL_H = 200
CASES_PER_PAGE = 4


def cell(rgb: np.ndarray, label: str, width: int | None = None) -> np.ndarray:
    return mask_contact.cell(rgb, label, width, CELL_H)


def face_window(inp: MaskInput) -> tuple[int, int, int, int]:
    h, w = inp.shape
    faces = [p.face for p in analyse(inp).people if p.face is not None]
    if not faces:
        return 0, 0, w, h
    f = max(faces, key=lambda f: f.size)
    cx, cy = f.centre
    half = 0.9 * f.size
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    return x0, y0, int(min(w, cx + half)), int(min(h, cy + half))


def block(case: dict, edge: int) -> tuple[np.ndarray, dict]:
    rgb = hard_cases.load(case)
    h, w = rgb.shape[:2]
    s = edge / max(h, w)
    if s < 1:
        rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    inp = MaskInput(image=rgb, digest=f"people-contact:{case['id']}")
    results = {}
    alphas = {}
    for kind in WHOLE + FACE:
        t0 = time.process_time()
        res = derive(inp, MaskComponent(kind=kind))
        cpu = time.process_time() - t0
        cover = float((res.alpha > 0.5).mean()) if res.found else 0.0
        reason = (res.info or {}).get("reason")
        results[kind] = {"found": bool(res.found), "cover": round(cover, 5), "cpu_s": round(cpu, 3), "reason": reason}
        alphas[kind] = res.alpha if res.found else np.zeros(rgb.shape[:2], np.float32)
    x0, y0, x1, y1 = face_window(inp)

    def label(kind):
        r = results[kind]
        text = f"{kind} {r['cover']:.1%}" if r["found"] else f"{kind}: none"
        return text + (" !" if r["reason"] else "")

    top = [cell(rgb, case["id"][:28])] + [cell(overlay(rgb, alphas[k], COLOURS[k]), label(k)) for k in WHOLE]
    crop = rgb[y0:y1, x0:x1]
    bottom = [cell(crop, "face zoom", CELL_H)] + [
        cell(overlay(crop, alphas[k][y0:y1, x0:x1], COLOURS[k]), label(k), CELL_H) for k in FACE]
    r1, r2 = np.hstack(top), np.hstack(bottom)
    width = max(r1.shape[1], r2.shape[1])
    pad = lambda r: np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)))  # noqa: E731
    sep = np.full((6, width, 3), 255, np.uint8)
    return np.vstack([pad(r1), pad(r2), sep]), results


def main() -> None:
    args = sheet_args(__doc__, "out/people")
    only = args.only
    blocks, everything = [], {}
    for case in hard_cases.cases():
        if only and case["id"] not in only:
            continue
        try:
            b, res = block(case, args.edge)
        except Exception as exc:  # one unreadable photo must not cost the sheet
            print(f"{case['id']}: {exc}")
            continue
        blocks.append(b)
        everything[case["id"]] = res
        print(case["id"], describe(res), flush=True)
    write_pages(blocks, args.out, "people", CASES_PER_PAGE, unit="cases")
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))


if __name__ == "__main__":
    main()
