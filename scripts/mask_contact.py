"""Contact sheet of the subject, sky and people masks on every sample photo (for looking).

    python scripts/mask_contact.py [--out out/contact_masks.png] [--edge 1024] [--kinds subject,sky,person]
                                   [photos or folders...]

One row per photo: the photo, then the subject (red), sky (blue) and all people
(green) drawn over it, each labelled with the time it took and "none" when the
kind found nothing; "!" marks a result that came with a warning (printed per photo).  Default photos: every portrait, sky, animal and object photo
in /work/shared/samples.  Masks are derived through the registry exactly as the
app derives them, at ``--edge`` pixels on the long side.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.overlay import load_rgb, overlay
from maskroom.engine.masks.registry import MaskInput
from maskroom.core.recipe import MaskComponent

SAMPLES = Path("/work/shared/samples")
FOLDERS = ("portraits", "sky", "animals", "objects")
KINDS = (("subject", (1.0, 0.1, 0.1)), ("sky", (0.1, 0.35, 1.0)), ("person", (0.1, 0.9, 0.2)))
CELL_H = 220
ROWS_PER_PAGE = 8
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"}


def photos(args: list[str]) -> list[Path]:
    roots = [Path(a) for a in args] or [SAMPLES / f for f in FOLDERS]
    out: list[Path] = []
    for root in roots:
        out += sorted(p for p in root.iterdir() if p.suffix.lower() in SUFFIXES) if root.is_dir() else [root]
    return out


def cell(rgb: np.ndarray, label: str, width: int | None = None, height: int = CELL_H) -> np.ndarray:
    """One labelled tile (BGR uint8) of an sRGB float image, ``height`` px high (and
    ``width`` wide, else the image's aspect)."""
    h, w = rgb.shape[:2]
    tile = cv2.resize(rgb, (width or max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)
    tile = (np.clip(tile, 0, 1) * 255).astype(np.uint8)[..., ::-1].copy()
    cv2.rectangle(tile, (0, 0), (tile.shape[1], 18), (0, 0, 0), -1)
    cv2.putText(tile, label, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def describe(results: dict) -> str:
    """One line of coverages and reasons per photo: {kind: {found, cover, reason}}."""
    return "  ".join(f"{k}={'%.1f%%' % (r['cover'] * 100) if r['found'] else 'none'}"
                     + (f" [{r['reason']}]" if r["reason"] else "") for k, r in results.items())


def sheet_args(doc: str, default_out: str) -> argparse.Namespace:
    """The options of the hard-case sheet scripts: --out, --edge, --only, --json."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(default_out))
    ap.add_argument("--edge", type=int, default=1024)
    ap.add_argument("--only", default="", help="Comma-separated case ids.")
    ap.add_argument("--json", type=Path, help="Write coverages and reasons here (to compare a change).")
    args = ap.parse_args()
    args.only = set(filter(None, args.only.split(",")))
    return args


def write_pages(rows: list[np.ndarray], folder: Path, stem: str, per_page: int, unit: str = "photos") -> None:
    """Stack rows (BGR uint8) into sheets of ``per_page``: ``folder/<stem>-<page>.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    for page, start in enumerate(range(0, len(rows), per_page), 1):
        chunk = rows[start:start + per_page]
        width = max(r.shape[1] for r in chunk)
        sheet = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in chunk])
        out = folder / f"{stem}-{page}.png"
        cv2.imwrite(str(out), sheet)
        print(f"{out}: {len(chunk)} {unit}, {sheet.shape[1]}x{sheet.shape[0]}")


def row_for(path: Path, edge: int, kinds=KINDS) -> tuple[np.ndarray, dict]:
    rgb = load_rgb(path)
    h, w = rgb.shape[:2]
    s = edge / max(h, w)
    if s < 1:
        rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    inp = MaskInput(image=rgb, digest=f"contact:{path}")
    tiles = [cell(rgb, path.name[:34])]
    stats = {}
    for kind, colour in kinds:
        t0 = time.perf_counter()
        res = derive(inp, MaskComponent(kind=kind))
        dt = time.perf_counter() - t0
        cover = float((res.alpha > 0.5).mean()) if res.found else 0.0
        reason = (res.info or {}).get("reason")
        stats[kind] = (res.found, cover, dt, reason)
        text = f"{kind} {cover:.0%} {dt:.1f}s" if res.found else f"{kind}: none {dt:.1f}s"
        text += " !" if reason else ""
        tiles.append(cell(overlay(rgb, res.alpha if res.found else np.zeros(rgb.shape[:2], np.float32), colour),
                          text))
    return np.hstack(tiles), stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("photos", nargs="*")
    ap.add_argument("--out", type=Path, default=Path("out/contact_masks.png"))
    ap.add_argument("--edge", type=int, default=1024)
    ap.add_argument("--kinds", default=",".join(k for k, _ in KINDS), help="Which of subject, sky, person.")
    args = ap.parse_args()
    kinds = [(k, c) for k, c in KINDS if k in args.kinds.split(",")]
    rows = []
    for path in photos(args.photos):
        try:
            row, stats = row_for(path, args.edge, kinds)
        except Exception as exc:  # one unreadable photo must not cost the sheet
            print(f"{path}: {exc}")
            continue
        rows.append(row)
        print(path.name, "  ".join(f"{k}={'%.0f%%' % (c * 100) if f else 'none'} ({t:.2f}s)" + (f" [{r}]" if r else "")
                                   for k, (f, c, t, r) in stats.items()), flush=True)
    width = max(r.shape[1] for r in rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Pages of ROWS_PER_PAGE photos: one sheet of 75 photos is too tall to look at.
    for page, start in enumerate(range(0, len(rows), ROWS_PER_PAGE), 1):
        chunk = rows[start:start + ROWS_PER_PAGE]
        sheet = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in chunk])
        out = args.out if len(rows) <= ROWS_PER_PAGE else args.out.with_name(f"{args.out.stem}-{page}{args.out.suffix}")
        cv2.imwrite(str(out), sheet)
        print(f"{out}: {len(chunk)} photos, {sheet.shape[1]}x{sheet.shape[0]}")


if __name__ == "__main__":
    main()
