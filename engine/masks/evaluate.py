"""Measuring mask kinds against ground-truth pairs (IoU, false positives, timing).

A pair set is ``images/<id>.<ext>`` + ``masks/<id>.png`` (255 = the class).  Each
image is loaded upright (EXIF orientation applied), the kind is derived through the
registry exactly as the catalog would, and the matte is compared at 0.5 with the
ground truth at the ground truth's size.  Images whose ground truth is empty (e.g.
indoor photos for "sky") count towards the false-positive rate instead of the IoU.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from maskroom.core.progress import Progress
from maskroom.core.recipe import MaskComponent
from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.registry import MaskInput

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks; two empty masks agree fully."""
    union = np.logical_or(pred, truth).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred, truth).sum() / union)


def load_rgb(path: Path) -> np.ndarray:
    """sRGB float32 0..1 HxWx3, upright."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        return np.asarray(im, np.float32) / 255.0


def load_mask(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L")) > 127


@dataclass
class PairResult:
    id: str
    iou: float | None  # None when the ground truth is empty
    false_positive: float | None  # predicted fraction on an empty ground truth
    seconds: float
    found: bool
    error: str | None = None


@dataclass
class EvalReport:
    kind: str
    pairs: list[PairResult] = field(default_factory=list)

    @property
    def scored(self) -> list[PairResult]:
        return [p for p in self.pairs if p.iou is not None]

    @property
    def negatives(self) -> list[PairResult]:
        return [p for p in self.pairs if p.false_positive is not None]

    def summary(self) -> dict:
        ious = [p.iou for p in self.scored]
        fps = [p.false_positive for p in self.negatives]
        secs = [p.seconds for p in self.pairs if p.error is None]
        worst = sorted(self.scored, key=lambda p: p.iou)[:5]
        return {
            "kind": self.kind,
            "pairs": len(self.pairs),
            "errors": sum(p.error is not None for p in self.pairs),
            "mean_iou": float(np.mean(ious)) if ious else None,
            "median_iou": float(np.median(ious)) if ious else None,
            "negatives": len(fps),
            # Mean predicted area on images without the class, and how many of them
            # got more than 1 % of the frame.
            "false_positive_rate": float(np.mean(fps)) if fps else None,
            "negatives_over_1pct": int(sum(f > 0.01 for f in fps)),
            "worst": [{"id": p.id, "iou": p.iou} for p in worst],
            "median_seconds": float(np.median(secs)) if secs else None,
        }

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "pairs": [asdict(p) for p in self.pairs]}


def find_pairs(images: Path, masks: Path) -> list[tuple[str, Path, Path]]:
    pairs = []
    for img in sorted(Path(images).iterdir()):
        if img.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        mask = Path(masks) / f"{img.stem}.png"
        if mask.exists():
            pairs.append((img.stem, img, mask))
    return pairs


def evaluate_kind(
    kind: str,
    images: Path,
    masks: Path,
    *,
    params: dict | None = None,
    progress: Progress | None = None,
    limit: int | None = None,
    keep: dict | None = None,
    box_margin: float | None = None,
) -> EvalReport:
    """Derive ``kind`` on every pair; ``keep`` (if given) receives id -> matte for panels.

    ``box_margin``: prompt each pair with a box (param ``box``) round its truth, grown
    by this share of the truth's width and height on every side: the loose box a
    user draws round an object (the ``object`` kind).  Pairs with an empty truth
    are skipped then (there is nothing to draw a box round)."""
    progress = progress or Progress()
    pairs = find_pairs(images, masks)[:limit]
    report = EvalReport(kind)
    progress.start(len(pairs), f"eval {kind}")
    for pid, img_path, mask_path in pairs:
        try:
            image = load_rgb(img_path)
            truth = load_mask(mask_path)
            comp_params = dict(params or {})
            if box_margin is not None:
                if not truth.any():
                    progress.advance(1, pid)
                    continue
                comp_params["box"] = truth_box(truth, box_margin)
            comp = MaskComponent(kind=kind, params=comp_params)
            t0 = time.perf_counter()
            result = derive(MaskInput(image=image, digest=pid), comp)
            secs = time.perf_counter() - t0
            alpha = result.alpha
            if alpha.shape != truth.shape:
                alpha = cv2.resize(alpha, (truth.shape[1], truth.shape[0]), interpolation=cv2.INTER_LINEAR)
            pred = alpha > 0.5
            if truth.any():
                report.pairs.append(PairResult(pid, iou(pred, truth), None, secs, result.found))
            else:
                report.pairs.append(PairResult(pid, None, float(pred.mean()), secs, result.found))
            if keep is not None:
                keep[pid] = (img_path, alpha, truth)
        except Exception as exc:  # one bad pair must not stop the run
            report.pairs.append(PairResult(pid, None, None, 0.0, False, f"{img_path.name}: {exc}"))
        progress.advance(1, pid)
    return report


def truth_box(truth: np.ndarray, margin: float) -> list[float]:
    """The truth's bounding box grown by ``margin`` of its size per side, normalised
    to 0..1 like an object prompt (clipped to the frame)."""
    h, w = truth.shape
    ys, xs = np.nonzero(truth)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    return [max(0.0, (x0 - mx) / w), max(0.0, (y0 - my) / h), min(1.0, (x1 + mx) / w), min(1.0, (y1 + my) / h)]


def overlay(image: np.ndarray, alpha: np.ndarray, colour=(1.0, 0.1, 0.1), strength: float = 0.55) -> np.ndarray:
    """The photo with the matte drawn in red (float32 HxWx3)."""
    if alpha.shape != image.shape[:2]:
        alpha = cv2.resize(alpha, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    a = (np.clip(alpha, 0, 1) * strength)[..., None]
    return image * (1 - a) + np.asarray(colour, np.float32) * a


def write_panel(path: Path, image: np.ndarray, alpha: np.ndarray, truth: np.ndarray | None, title: str = "") -> None:
    """photo | predicted overlay | ground-truth overlay, 512 px high, as PNG."""
    h = 360
    scale = h / image.shape[0]
    w = max(1, int(round(image.shape[1] * scale)))
    img = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    a = cv2.resize(alpha.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    tiles = [img, overlay(img, a)]
    if truth is not None:
        t = cv2.resize(truth.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST)
        tiles.append(overlay(img, t, colour=(0.1, 0.9, 0.1)))
    panel = (np.clip(np.hstack(tiles), 0, 1) * 255).astype(np.uint8)[..., ::-1].copy()
    if title:
        cv2.putText(panel, title, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 255), 2)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), panel)
