"""IoU metrics and the pair evaluation report."""
from __future__ import annotations

import cv2
import numpy as np

from maskroom.engine.masks.overlay import overlay
from tools.evaluate import EvalReport, PairResult, evaluate_kind, iou, truth_box, write_panel

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


def test_truth_box_is_the_truths_box_grown_and_clipped():
    t = np.zeros((100, 200), bool)
    t[20:60, 50:150] = True  # 100 wide, 40 high
    assert truth_box(t, 0.1) == [40 / 200, 16 / 100, 160 / 200, 64 / 100]
    assert truth_box(t, 1.0) == [0.0, 0.0, 1.0, 1.0]


def test_box_margin_prompts_each_pair_with_a_box_round_its_own_truth(tmp_path):
    (tmp_path / "i").mkdir(), (tmp_path / "m").mkdir()
    for name, centre in (("left", (0.3, 0.5)), ("right", (0.7, 0.5))):
        truth = disc_picture(tmp_path / "i" / f"{name}.png", centre=centre)
        cv2.imwrite(str(tmp_path / "m" / f"{name}.png"), truth.astype(np.uint8) * 255)
    cv2.imwrite(str(tmp_path / "i" / "empty.png"), np.full((64, 64, 3), 128, np.uint8))
    cv2.imwrite(str(tmp_path / "m" / "empty.png"), np.zeros((64, 64), np.uint8))
    rep = evaluate_kind("object", tmp_path / "i", tmp_path / "m", box_margin=0.1)
    # One fixed box could not fit discs on both sides; the empty truth has no box to draw.
    assert sorted(p.id for p in rep.pairs) == ["left", "right"]
    assert all(p.iou > 0.85 for p in rep.pairs), [p.iou for p in rep.pairs]


def test_overlay_reddens_only_the_mask():
    img = np.full((4, 4, 3), 0.5, np.float32)
    a = np.zeros((4, 4), np.float32)
    a[:2] = 1
    o = overlay(img, a)
    assert o[0, 0, 0] > 0.7 and o[0, 0, 2] < 0.4
    assert np.allclose(o[3, 3], 0.5)
