"""The shipped models and the model store: integrity checks, clear errors, one session per model."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from maskroom.engine.masks import model_store
from maskroom.engine.masks.model_store import ModelError, get_session, model_info
from model_helpers import conv_model


def test_every_shipped_model_verifies_and_loads():
    names = sorted(model_store.manifest())
    for expected in ("sky_u2netp", "sky_ege", "skin_clothes_hair", "selfie_segmentation", "face_detection_short_range",
                     "face_landmark", "iris_landmark", "hair_segmentation", "pose_landmark_full"):
        assert expected in names
    for name in names:
        assert model_store.verify(name).exists()
        info = model_store.model_info(name)
        assert info["version"] and info["source"]["licence"] and info["sha256"]
    sess = model_store.get_session("face_detection_short_range")
    assert sess is model_store.get_session("face_detection_short_range")  # created once, reused
    out = sess.run(None, {sess.get_inputs()[0].name: np.zeros((1, 128, 128, 3), np.float32)})
    assert sorted(o.shape for o in out) == [(1, 896, 1), (1, 896, 16)]


def test_every_shipped_model_runs_with_its_manifest_shapes():
    """Each shipped file loads in onnxruntime and maps the manifest's input shape to the
    manifest's output shapes (where the manifest gives them), with finite numbers."""
    for name, info in sorted(model_store.manifest().items()):
        sess = get_session(name)
        inp = sess.get_inputs()[0]
        assert list(inp.shape) == info["input"]["shape"], name
        # A free dimension (named in the manifest, e.g. the salient model's height and
        # width) runs at a size of its own, the same wherever the name recurs.
        free = {"height": 224, "width": 320}
        size = [free.get(d, d) for d in info["input"]["shape"]]
        x = np.full(size, 0.5, np.float32)
        outs = sess.run(None, {inp.name: x})
        assert all(np.isfinite(o).all() for o in outs), name
        declared = [tuple(free.get(d, d) for d in o["shape"]) for o in info["outputs"] if "shape" in o]
        assert declared and set(declared) <= {o.shape for o in outs}, (name, declared, [o.shape for o in outs])


def _install_fake(user_models, name, src, sha=None):
    user_models.mkdir(parents=True, exist_ok=True)
    target = user_models / src.name
    target.write_bytes(src.read_bytes())
    entry = {"file": src.name, "sha256": sha or model_store.sha256_file(src), "version": "t1"}
    (user_models / "manifest.json").write_text(json.dumps({"models": {name: entry}}))
    return target


def test_corrupt_and_missing_model_files_give_clear_errors(user_models, tmp_path):
    src = conv_model(tmp_path / "m.onnx", [1, 3, 8, 8], 1)
    target = _install_fake(user_models, "tiny", src, sha="0" * 64)
    with pytest.raises(ModelError, match=r"m\.onnx: model file 'tiny' is corrupt"):
        model_store.get_session("tiny")
    target.unlink()
    with pytest.raises(ModelError, match="is missing"):
        model_store.get_session("tiny")
    with pytest.raises(ModelError, match="not in the manifest"):
        model_store.get_session("no_such_model")


def test_session_is_created_once_across_threads(user_models, tmp_path):
    _install_fake(user_models, "tiny", conv_model(tmp_path / "m.onnx", [1, 3, 8, 8], 1))
    got = []
    threads = [threading.Thread(target=lambda: got.append(get_session("tiny"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(s is got[0] for s in got)
    assert model_info("tiny")["version"] == "t1"
    x = np.ones((1, 3, 8, 8), np.float32)
    assert got[0].run(None, {"x": x})[0].shape == (1, 1, 8, 8)


def test_hair_segmentation_marks_the_top_of_the_head_on_a_shipped_portrait(samples_dir):
    """The converted hair model (custom ops rewritten) fires on Grace Hopper's head (hair and cap),
    not on her uniform or the flag behind her."""
    import cv2

    rgb = cv2.imread(str(samples_dir / "mpl_grace_hopper.jpg"))[:, :, ::-1].astype(np.float32) / 255
    x = cv2.resize(rgb, (512, 512), interpolation=cv2.INTER_AREA)
    inp = np.concatenate([x, np.zeros((512, 512, 1), np.float32)], axis=2)[None]  # no previous mask
    logits = get_session("hair_segmentation").run(None, {"input_1": inp})[0][0]
    hair = logits[..., 1] > logits[..., 0]
    assert 0.01 < hair.mean() < 0.15
    ys, xs = np.nonzero(hair)
    assert np.median(ys) < 512 * 0.4 and 512 * 0.3 < np.median(xs) < 512 * 0.7  # upper middle: the head
    assert hair[400:].mean() < 0.01  # not the uniform
