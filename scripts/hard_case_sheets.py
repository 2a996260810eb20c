"""Contact sheets of the AI mask kinds on the committed hard-case set (for grading by eye).

    python scripts/hard_case_sheets.py [--out out/hard-cases] [--edge 1024] [--only ID,ID] [--json results.json]

The set is ``bench/data/hard-cases/`` (manifest.json: source, licence, sha256 and the
pattern each photo stands for).  One row per photo: the photo, then every kind its
manifest entry names (``face`` stands for face skin, iris and lips; ``object`` is drawn
once per box of the entry's ``boxes``, the box in yellow), drawn over it with
the covered fraction, "none" when the kind found nothing, and "!" when the result
carries a warning.  Warnings are printed; ``--json`` writes coverages and reasons so a
change can be compared with the code before it.  Grades go in
bench/data/hard_case_grades.tsv by the rule in the manifest's "grading" field.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mask_contact import cell, describe, sheet_args, write_pages  # noqa: E402
from maskroom.core.recipe import MaskComponent  # noqa: E402
from maskroom.engine.masks.compose import derive  # noqa: E402
from maskroom.engine.masks.overlay import load_rgb, overlay  # noqa: E402
from maskroom.engine.masks.registry import MaskInput  # noqa: E402

SET = Path(__file__).resolve().parent.parent / "bench" / "data" / "hard-cases"
EXPAND = {"face": ("face-skin", "iris", "lips")}
COLOURS = {"subject": (1.0, 0.1, 0.1), "sky": (0.1, 0.35, 1.0), "person": (0.1, 0.9, 0.2), "hair": (1.0, 0.6, 0.0),
           "face-skin": (1.0, 0.1, 0.6), "iris": (0.1, 0.9, 0.2), "lips": (1.0, 0.1, 0.1), "object": (1.0, 0.1, 0.1)}
ROWS_PER_PAGE = 6


def cases() -> list[dict]:
    return json.loads((SET / "manifest.json").read_text())["cases"]


def components(case: dict) -> list[tuple[str, MaskComponent]]:
    """(label, component) for every kind the case names; an object once per box drawn."""
    out = []
    for name in case["kinds"]:
        if name == "object":
            out += [(f"object: {what}", MaskComponent(kind="object", params={"box": box}))
                    for what, box in case.get("boxes", {}).items()]
        else:
            out += [(k, MaskComponent(kind=k)) for k in EXPAND.get(name, (name,))]
    return out


def row_for(case: dict, edge: int) -> tuple[np.ndarray, dict]:
    rgb = load_rgb(SET / case["file"])
    h, w = rgb.shape[:2]
    s = edge / max(h, w)
    if s < 1:
        rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        h, w = rgb.shape[:2]
    inp = MaskInput(image=rgb, digest=f"hard-case:{case['sha256']}")
    tiles, results = [cell(rgb, case["id"][:30])], {}
    for label, comp in components(case):
        res = derive(inp, comp)
        cover = float((res.alpha > 0.5).mean()) if res.found else 0.0
        reason = (res.info or {}).get("reason")
        results[label] = {"found": bool(res.found), "cover": round(cover, 5), "reason": reason}
        text = (f"{label[:24]} {cover:.0%}" if res.found else f"{label[:24]}: none") + (" !" if reason else "")
        alpha = res.alpha if res.found else np.zeros(rgb.shape[:2], np.float32)
        tile = overlay(rgb, alpha, COLOURS[comp.kind])
        if "box" in comp.params:  # the prompt, as the user drew it
            x0, y0, x1, y1 = comp.params["box"]
            tile = cv2.rectangle(np.ascontiguousarray(tile), (round(x0 * w), round(y0 * h)),
                                 (round(x1 * w) - 1, round(y1 * h) - 1), (1.0, 1.0, 0.0), max(2, w // 300))
        tiles.append(cell(tile, text))
    return np.hstack(tiles), results


def main() -> None:
    args = sheet_args(__doc__, "out/hard-cases")
    only = args.only
    rows, everything = [], {}
    for case in cases():
        if only and case["id"] not in only:
            continue
        row, results = row_for(case, args.edge)
        rows.append(row)
        everything[case["id"]] = results
        print(case["id"], describe(results), flush=True)
    write_pages(rows, args.out, "hard-cases", ROWS_PER_PAGE)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))


if __name__ == "__main__":
    main()
