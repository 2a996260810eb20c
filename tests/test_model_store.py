"""The shipped models, the model store's integrity checks and model packs.

Packs are tested with tiny random-weight ONNX models that the tests build, of the
same input/output signature as the real packs: nothing is downloaded.
"""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from maskroom.cli import main
from maskroom.engine.masks import model_store, packs
from maskroom.engine.masks.model_store import ModelError


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    d = tmp_path / "models"
    monkeypatch.setenv(model_store.ENV_MODELS_DIR, str(d))
    model_store.clear_sessions()
    yield d
    model_store.clear_sessions()


def conv_model(path, in_shape, out_channels, seed=0, name="x"):
    """A one-Conv model: NCHW input -> out_channels maps of the same size."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.5, (out_channels, in_shape[1], 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", [name, "w"], ["y"], pads=[1, 1, 1, 1])], "tiny",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [in_shape[0], out_channels, *in_shape[2:]])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_every_shipped_model_verifies_and_loads():
    names = sorted(model_store.manifest())
    for expected in ("sky_u2netp", "sky_ege", "skin_clothes_hair", "selfie_segmentation", "face_detection_short_range",
                     "face_landmark", "iris_landmark"):
        assert expected in names
    for name in names:
        assert model_store.verify(name).exists()
        info = model_store.model_info(name)
        assert info["version"] and info["source"]["licence"] and info["sha256"]
    sess = model_store.get_session("face_detection_short_range")
    assert sess is model_store.get_session("face_detection_short_range")  # created once, reused
    out = sess.run(None, {sess.get_inputs()[0].name: np.zeros((1, 128, 128, 3), np.float32)})
    assert sorted(o.shape for o in out) == [(1, 896, 1), (1, 896, 16)]


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


def test_salient_pack_install_and_adapter(user_models, tmp_path):
    src = conv_model(tmp_path / "u2net.onnx", [1, 3, 32, 32], 1, name="input.1")
    runner = CliRunner()
    result = runner.invoke(main, ["models", "install", "salient_object", "--from", str(src)])
    assert result.exit_code == 0, result.output
    assert packs.is_installed("salient_object")
    rgb = np.random.default_rng(1).random((48, 64, 3)).astype(np.float32)
    sal = packs.SalientObjectPack().predict(rgb)
    assert sal.shape == (48, 64) and 0 <= sal.min() and sal.max() <= 1 and sal.std() > 0
    listed = json.loads(runner.invoke(main, ["models", "list", "--json"]).stdout)
    assert any(r["name"] == "salient_object" and r["where"] == "user pack" for r in listed)
    assert runner.invoke(main, ["models", "verify"]).exit_code == 0


def test_pack_install_rejects_a_non_model(user_models, tmp_path):
    junk = tmp_path / "u2net.onnx"
    junk.write_bytes(b"not onnx")
    result = CliRunner().invoke(main, ["models", "install", "salient_object", "--from", str(junk)])
    assert result.exit_code != 0 and "not a loadable ONNX model" in result.output
    assert not packs.is_installed("salient_object")


def sam_like(tmp_path):
    """Encoder 1x3x64x64 -> embeddings 1x4x16x16; decoder takes SAM's named inputs and returns
    masks (1,1,H,W) at orig_im_size by upsampling a conv of the embedding plus the prompt."""
    enc = tmp_path / "enc.onnx"
    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.3, (4, 3, 4, 4)).astype(np.float32)
    g = helper.make_graph([helper.make_node("Conv", ["image", "w"], ["emb"], strides=[4, 4])], "enc",
                          [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])],
                          [helper.make_tensor_value_info("emb", TensorProto.FLOAT, [1, 4, 16, 16])],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, enc)
    dec = tmp_path / "dec.onnx"
    wd = rng.normal(0, 0.3, (1, 4, 1, 1)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["image_embeddings", "wd"], ["low"]),
        helper.make_node("ReduceMean", ["point_coords"], ["pc"], keepdims=0),
        helper.make_node("ReduceMean", ["point_labels"], ["pl"], keepdims=0),
        helper.make_node("Add", ["pc", "pl"], ["p"]),
        helper.make_node("Mul", ["p", "small"], ["ps"]),
        helper.make_node("Add", ["low", "ps"], ["low2"]),
        helper.make_node("Cast", ["orig_im_size"], ["hw"], to=TensorProto.INT64),
        helper.make_node("Concat", ["nc", "hw"], ["sizes"], axis=0),
        helper.make_node("Resize", ["low2", "", "", "sizes"], ["masks"], mode="linear"),
    ]
    g = helper.make_graph(nodes, "dec", [
        helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 4, 16, 16]),
        helper.make_tensor_value_info("point_coords", TensorProto.FLOAT, [1, None, 2]),
        helper.make_tensor_value_info("point_labels", TensorProto.FLOAT, [1, None]),
        helper.make_tensor_value_info("orig_im_size", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("masks", TensorProto.FLOAT, [1, 1, None, None])],
        [numpy_helper.from_array(wd, "wd"), numpy_helper.from_array(np.array(0.001, np.float32), "small"),
         numpy_helper.from_array(np.array([1, 1], np.int64), "nc")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, dec)
    return enc, dec


def test_promptable_pack_box_prompt(user_models, tmp_path):
    enc, dec = sam_like(tmp_path)
    assert packs.install("promptable", [enc, dec]) == ["promptable.encoder", "promptable.decoder"]
    rgb = np.random.default_rng(2).random((30, 50, 3)).astype(np.float32)
    pack = packs.PromptablePack()
    a = pack.predict(rgb, box=[0.1, 0.1, 0.6, 0.8])
    b = pack.predict(rgb, points=[(0.5, 0.5, 1)])
    assert a.shape == (30, 50) and b.shape == (30, 50)
    assert not np.allclose(a, b)  # the prompt reaches the decoder
    with pytest.raises(ValueError):
        pack.predict(rgb)


def test_face_parsing_pack_labels(user_models, tmp_path):
    src = conv_model(tmp_path / "face_parsing_bisenet.onnx", [1, 3, 32, 32], 19, seed=5)
    packs.install("face_parsing", [src])
    face = np.random.default_rng(4).random((40, 36, 3)).astype(np.float32)
    labels = packs.FaceParsingPack().predict(face)
    assert labels.shape == (40, 36) and labels.max() < 19 and len(np.unique(labels)) > 1
    lips = packs.FaceParsingPack().part(face, "u_lip", "l_lip")
    assert set(np.unique(lips)) <= {0.0, 1.0}
