"""IoU metrics and the pair evaluation report."""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.masks.evaluate import EvalReport, PairResult, evaluate_kind, iou, overlay, write_panel

from mask_helpers import disc_picture


def test_iou_values():
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    assert iou(a, b) == 1.0  # both empty agree
    a[:5] = True
    assert iou(a, b) == 0.0
    b[:, :5] = True
    assert iou(a, b) == 25 / 75
    assert iou(a, a) == 1.0


def test_summary_separates_negatives_and_ranks_worst():
    rep = EvalReport("sky", [PairResult(f"p{i}", v, None, 0.1, True) for i, v in enumerate([0.9, 0.5, 0.7, 0.95, 0.2, 0.8])])
    rep.pairs += [PairResult("n0", None, 0.0, 0.1, False), PairResult("n1", None, 0.04, 0.1, True)]
    s = rep.summary()
    assert s["mean_iou"] == np.mean([0.9, 0.5, 0.7, 0.95, 0.2, 0.8])
    assert [w["id"] for w in s["worst"]] == ["p4", "p1", "p2", "p5", "p0"]
    assert s["negatives"] == 2 and s["false_positive_rate"] == 0.02 and s["negatives_over_1pct"] == 1


def test_evaluate_kind_on_synthetic_pairs(tmp_path):
    (tmp_path / "i").mkdir(), (tmp_path / "m").mkdir()
    truth = disc_picture(tmp_path / "i" / "a.png")
    cv2.imwrite(str(tmp_path / "m" / "a.png"), truth.astype(np.uint8) * 255)
    disc_picture(tmp_path / "i" / "nomask.png")  # no mask: not a pair
    keep = {}
    rep = evaluate_kind("object", tmp_path / "i", tmp_path / "m", params={"box": [0.1, 0.1, 0.9, 0.95]}, keep=keep)
    assert [p.id for p in rep.pairs] == ["a"]
    assert rep.pairs[0].iou > 0.85 and rep.pairs[0].error is None
    img_path, alpha, t = keep["a"]
    write_panel(tmp_path / "panel.png", cv2.imread(str(img_path))[..., ::-1] / 255.0, alpha, t, "a")
    panel = cv2.imread(str(tmp_path / "panel.png"))
    assert panel.shape[0] == 360 and panel.shape[1] > 3 * 360


def test_overlay_reddens_only_the_mask():
    img = np.full((4, 4, 3), 0.5, np.float32)
    a = np.zeros((4, 4), np.float32)
    a[:2] = 1
    o = overlay(img, a)
    assert o[0, 0, 0] > 0.7 and o[0, 0, 2] < 0.4
    assert np.allclose(o[3, 3], 0.5)
