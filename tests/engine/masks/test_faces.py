"""Face geometry without models: anchors, box decoding, NMS, crops, topology, rasters,
and the people split on synthetic mattes."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from maskroom.engine.masks.people import face_topology as topo
from maskroom.engine.masks.people.faces import (
    DET_SIZE,
    _turned,
    apply_affine,
    blazeface_anchors,
    box_iou,
    crop_matrix,
    decode_detections,
    warp_crop,
    weighted_nms,
)
from maskroom.engine.masks.people.face_parts import fill_circle, fill_polygon
from maskroom.engine.masks.people.segmentation import memberships, split_people


def test_blazeface_anchors_grid():
    a = blazeface_anchors()
    assert a.shape == (896, 2)
    # 16x16 grid with 2 anchors per cell, then 8x8 with 6.
    assert np.allclose(a[0], [0.5 / 16, 0.5 / 16]) and np.allclose(a[1], a[0])
    assert np.allclose(a[2], [1.5 / 16, 0.5 / 16])
    assert np.allclose(a[512], [0.5 / 8, 0.5 / 8]) and np.allclose(a[517], a[512])
    assert np.allclose(a[518], [1.5 / 8, 0.5 / 8])
    assert a.min() > 0 and a.max() < 1


def test_decode_detections_places_box_and_keypoints():
    reg = np.zeros((896, 16), np.float32)
    scores = np.full((896, 1), -10.0, np.float32)
    i = 600  # an anchor of the 8x8 grid
    anchor = blazeface_anchors()[i]
    reg[i, :4] = [6.4, -12.8, 32.0, 38.4]  # dx, dy, w, h in model pixels
    reg[i, 4:6] = [-8.0, -4.0]  # right eye relative to the anchor
    scores[i] = 4.0
    boxes, kps, prob = decode_detections(reg[None], scores[None])
    assert len(boxes) == 1 and prob[0] == pytest.approx(1 / (1 + math.exp(-4.0)))
    cx, cy = anchor + np.array([6.4, -12.8]) / DET_SIZE
    assert np.allclose(boxes[0], [cx - 0.125, cy - 0.15, cx + 0.125, cy + 0.15], atol=1e-6)
    assert np.allclose(kps[0, 0], anchor + np.array([-8.0, -4.0]) / DET_SIZE, atol=1e-6)


def test_weighted_nms_merges_overlaps_and_keeps_separate_faces():
    boxes = np.array([[10, 10, 50, 50], [12, 11, 52, 51], [100, 100, 140, 140]], np.float32)
    kps = np.zeros((3, 6, 2), np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    dets = weighted_nms(boxes, kps, scores)
    assert len(dets) == 2
    assert dets[0].score == pytest.approx(0.9)
    # The merged box lies between the two overlapping ones, nearer the better one.
    assert 10 < dets[0].box[0] < 11 and box_iou(dets[1].box, boxes[2:3])[0] == pytest.approx(1.0)


def test_crop_matrix_rotates_and_round_trips():
    img = np.zeros((200, 300, 3), np.float32)
    cv2.circle(img, (200, 80), 6, (1, 1, 1), -1)
    # A crop centred on (150, 100), 120 px wide, rotated 90°: image +y becomes crop +x.
    m = crop_matrix((150, 100), 120, math.pi / 2, 60)
    crop = warp_crop(img, m, 60)
    ys, xs = np.nonzero(crop[..., 0] > 0.5)
    centre_in_crop = np.array([xs.mean(), ys.mean()])
    back = apply_affine(m, centre_in_crop[None])[0]
    assert np.allclose(back, [200, 80], atol=1.5)
    # The point is right of the centre in the image (+x) -> above the centre in the crop.
    assert centre_in_crop[1] < 30 - 10


def test_warp_crop_of_a_large_square_uses_the_area_path():
    img = np.zeros((1000, 1000, 3), np.float32)
    img[400:600, 400:600] = 1.0
    m = crop_matrix((500, 500), 800, 0.0, 64)
    crop = warp_crop(img, m, 64)
    # The white square covers a quarter of the crop side (200/800) in the middle.
    assert crop[32, 32, 0] == pytest.approx(1.0, abs=0.05)
    assert crop[5, 5, 0] == pytest.approx(0.0, abs=0.05)
    assert 0.04 < crop[..., 0].mean() < 0.09


@pytest.mark.parametrize("degrees", [90.0, -90.0, 45.0, -30.0])
def test_turned_copy_maps_points_back(degrees):
    h, w = 40, 60
    img = np.zeros((h, w, 3), np.float32)
    img[9:12, 44:47] = 1.0  # a 3x3 dot centred on pixel (45, 10)
    turned, back = _turned(img, degrees)
    ys, xs = np.nonzero(turned[..., 0] > 0.5)
    # Continuous coordinates (pixel i spans [i, i+1)), as detections are: the dot's
    # centre is (45.5, 10.5).  warpAffine's turns are pixel-centred: half a pixel off.
    spot = np.array([[xs.mean() + 0.5, ys.mean() + 0.5]])
    assert np.allclose(apply_affine(back, spot)[0], [45.5, 10.5], atol=0.75)


def test_topology_rings_are_valid():
    for name, ring in topo.REGIONS.items():
        assert len(set(ring)) == len(ring), name
        assert all(0 <= i < 468 for i in ring), name
    assert len(topo.FACE_OVAL) == 36 and len(topo.RIGHT_EYE) == len(topo.LEFT_EYE) == 16
    assert len(topo.LIPS_OUTER) == len(topo.LIPS_INNER) == 20
    assert not set(topo.LIPS_OUTER) & set(topo.LIPS_INNER)
    assert topo.RIGHT_EYE_CORNERS[0] in topo.RIGHT_EYE and topo.LEFT_EYE_CORNERS[0] in topo.LEFT_EYE


def test_fill_polygon_is_subpixel_and_antialiased():
    sq = np.array([[10.25, 10.25], [30.25, 10.25], [30.25, 30.25], [10.25, 30.25]], np.float32)
    m = fill_polygon((40, 40), sq)
    assert m.sum() == pytest.approx(400, rel=0.05)
    edge = m[20, 8:13]
    assert ((edge > 0.05) & (edge < 0.95)).any(), "anti-aliased edge expected"
    shifted = fill_polygon((40, 40), sq + [0.5, 0])
    assert shifted[20, 30] > m[20, 30]  # a half-pixel move shows in the raster
    disc = fill_circle((40, 40), (20.0, 20.0), 8.0)
    assert disc.sum() == pytest.approx(math.pi * 64, rel=0.06)


def _blob(h, w, cx, top, bw, bh):
    m = np.zeros((h, w), np.float32)
    cv2.ellipse(m, (cx, top + 12), (10, 12), 0, 0, 360, 1.0, -1)  # head
    cv2.rectangle(m, (cx - bw // 2, top + 22), (cx + bw // 2, top + 22 + bh), 1.0, -1)
    return m


def test_split_people_two_touching_people_and_a_faceless_one():
    h, w = 160, 240
    img = np.full((h, w, 3), 0.5, np.float32)
    left = _blob(h, w, 60, 20, 40, 110)
    right = _blob(h, w, 100, 20, 40, 110)  # bodies overlap: one connected blob
    back = _blob(h, w, 200, 30, 30, 100)  # nobody's face: a person from behind
    img[left > 0] = [0.8, 0.2, 0.2]
    img[right > 0] = [0.2, 0.2, 0.8]
    prob = np.clip(left + right + back, 0, 1)
    faces = [np.array([50, 20, 70, 44], np.float32), np.array([90, 20, 110, 44], np.float32)]
    labels, bodies = split_people(img, prob, faces)
    assert len(bodies) == 1
    assert labels[32, 60] == 1 and labels[32, 100] == 2
    assert labels[120, 55] == 1 and labels[120, 110] == 2  # bodies follow their faces
    assert labels[100, 200] == 3
    assert labels[5, 5] == 0 and set(np.unique(labels)) == {0, 1, 2, 3}
    mem = memberships(labels, 3)
    assert mem.shape == (3, h, w)
    assert np.allclose(mem.sum(0), 1.0, atol=1e-4)
    assert mem[0, 120, 50] > 0.95 and mem[2, 100, 200] > 0.95


def test_split_people_without_anyone():
    labels, bodies = split_people(np.zeros((50, 60, 3), np.float32), np.zeros((50, 60), np.float32), [])
    assert not labels.any() and bodies == []
    assert memberships(labels, 0).shape == (0, 50, 60)


# ------------------------------------------------ the attention mesh (478 points)
ATTENTION = "face_landmark_with_attention"


def test_attention_mesh_custom_op_rewrites_match_mediapipe_definitions():
    """The ONNX rewrites of MediaPipe's three custom ops (tools/models/convert_tflite.py), run in
    onnxruntime on random inputs, against the numpy references written from MediaPipe's
    definitions (tools/models/check_conversion.py): the crop matrix, the bilinear crop with its
    pixel-centre correction and zeroed outside, and the landmark transform."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    from tools.models.check_conversion import (
        ref_landmarks_to_transform_matrix,
        ref_transform_landmarks,
        ref_transform_tensor_bilinear,
    )
    from tools.models.convert_tflite import (
        _Builder,
        _landmarks_to_transform_matrix,
        _transform_landmarks,
        _transform_tensor_bilinear,
    )

    rng = np.random.default_rng(3)
    attrs = {"left_rotation_idx": 3, "right_rotation_idx": 11, "output_width": 16, "output_height": 12,
             "scale_x": 1.5, "scale_y": 1.3, "subset_idxs": [3, 11, 5, 7, 20, 21, 2, 9],
             "target_rotation_radians": 0.2}
    g = helper.make_graph([], "t", [helper.make_tensor_value_info("lm", TensorProto.FLOAT, [1, 30, 3]),
                                    helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 24, 20, 5]),
                                    helper.make_tensor_value_info("pts", TensorProto.FLOAT, [1, 7, 2])], [])
    b = _Builder(g, "op")
    _landmarks_to_transform_matrix(b, "lm", "m", attrs)
    _transform_tensor_bilinear(b, "x", "m", "crop", {"output_width": 16, "output_height": 12})
    _transform_landmarks(b, "pts", "m", "moved")
    g.node.extend(b.nodes)
    g.output.extend([helper.make_tensor_value_info("m", TensorProto.FLOAT, [1, 4, 4]),
                     helper.make_tensor_value_info("crop", TensorProto.FLOAT, [1, 12, 16, 5]),
                     helper.make_tensor_value_info("moved", TensorProto.FLOAT, [1, 7, 2])])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 16)])
    onnx.checker.check_model(model)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for _ in range(3):
        lm = np.zeros((1, 30, 3), np.float32)
        lm[0, :, :2] = rng.uniform(0, 20, (30, 2))  # over the 20x24 feature map: the 1.5x crop leaves it
        lm[0, :, 2] = rng.normal(size=30)
        x = rng.normal(size=(1, 24, 20, 5)).astype(np.float32)
        pts = rng.uniform(0, 16, (1, 7, 2)).astype(np.float32)
        m, crop, moved = sess.run(None, {"lm": lm, "x": x, "pts": pts})
        ref_m = ref_landmarks_to_transform_matrix(lm, attrs)
        assert np.abs(m - ref_m).max() < 1e-4
        ref_crop = ref_transform_tensor_bilinear(x, m, 12, 16)
        assert np.abs(crop - ref_crop).max() < 1e-4
        assert (ref_crop == 0).all(axis=-1).any() and (ref_crop != 0).any()  # both inside and outside points
        assert np.abs(moved - ref_transform_landmarks(pts, m)).max() < 1e-4


@pytest.fixture(scope="module")
def hopper_rgb():
    from pathlib import Path

    import maskroom
    from maskroom.engine.imageio.decode import decode_rgb

    img = decode_rgb(Path(maskroom.__file__).parent / "data" / "samples" / "mpl_grace_hopper.jpg")
    return img.astype(np.float32) / (65535.0 if img.dtype == np.uint16 else 255.0)


def test_attention_mesh_is_shipped_verified_and_named():
    from maskroom.engine.masks import model_store

    assert model_store.verify(ATTENTION).exists()  # sha256 against the manifest
    info = model_store.model_info(ATTENTION)
    assert info["source"]["licence"] == "Apache-2.0" and info["version"]
    sess = model_store.get_session(ATTENTION)
    names = [o.name for o in sess.get_outputs()]
    assert {"output_mesh_identity", "output_lips", "output_left_eye", "output_right_eye", "output_left_iris",
            "output_right_iris", "conv_faceflag"} == set(names)
    # no custom op survived the conversion: onnxruntime loads it with standard kernels only
    import onnx

    ops = {n.op_type for n in onnx.load(str(model_store.model_path(ATTENTION))).graph.node}
    assert "GridSample" in ops and not any(o.startswith("TFL_") for o in ops)


def test_attention_mesh_lands_on_grace_hopper(hopper_rgb):
    from maskroom.engine.masks.people import faces as F

    dets = F.detect_faces(hopper_rgb)
    det = max(dets, key=lambda d: d.score)
    lm, score, iris = F.face_landmarks(hopper_rgb, det, attention=True)
    plain, plain_score, none = F.face_landmarks(hopper_rgb, det, attention=False)
    assert score > 0.9 and plain_score > 0.9 and iris is not None and none is None
    x0, y0, x1, y1 = det.box
    pad = 0.25 * (x1 - x0)
    inside = ((lm[:, 0] > x0 - pad) & (lm[:, 0] < x1 + pad) & (lm[:, 1] > y0 - pad) & (lm[:, 1] < y1 + pad))
    assert inside.mean() > 0.98
    # image-left iris = subject's right eye (mesh 33/133), left of the other one
    assert iris[0, 0, 0] < iris[1, 0, 0]
    iod = float(np.linalg.norm(iris[0, 0] - iris[1, 0]))
    assert 0.2 < iod / (x1 - x0) < 0.7
    # the refined lips and eyes sit where the plain mesh puts the same points: a
    # wrong index mapping (eyes swapped, lips shuffled) would be off by a face's width
    for idx in (topo.REFINED_LIPS, topo.REFINED_RIGHT_EYE, topo.REFINED_LEFT_EYE):
        err = np.linalg.norm(lm[list(idx), :2] - plain[list(idx), :2], axis=1)
        assert np.median(err) / iod < 0.05
    # lips below the eyes, the mouth centre between the eyes horizontally
    assert lm[list(topo.LIPS_OUTER), 1].mean() > iris[:, 0, 1].max() + 0.3 * iod
    assert iris[0, 0, 0] < lm[13, 0] < iris[1, 0, 0]


def test_attention_iris_is_a_disc_inside_the_eye(hopper_rgb):
    from maskroom.engine.masks.people import faces as F

    faces = [f for f in F.find_faces(hopper_rgb) if f.landmarks is not None]
    assert len(faces) == 1
    face = faces[0]
    assert set(face.irises) == {"right", "left"}
    for name, eye in (("right", topo.RIGHT_EYE), ("left", topo.LEFT_EYE)):
        ir = face.irises[name]
        ring = face.landmarks[list(eye), :2].astype(np.float32)
        assert cv2.pointPolygonTest(ring, (float(ir.centre[0]), float(ir.centre[1])), False) > 0, name
        eye_width = float(np.ptp(ring[:, 0]))
        assert 0.15 < ir.radius / eye_width < 0.45, name  # an iris, not a dot or the whole eye
        assert ir.eye_contour.shape == (71, 2)
