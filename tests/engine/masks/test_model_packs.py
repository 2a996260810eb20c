"""Model packs: install --from FILE (sha256 and load checks, atomic copy) and the adapters.

Packs are tested with tiny random-weight ONNX models that the tests build, of the
same input/output signature as the real packs: nothing is downloaded.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from maskroom.cli import main
from maskroom.engine.masks import model_store, packs
from maskroom.engine.masks.model_store import ModelError
from model_helpers import conv_model


@pytest.fixture
def stand_in_specs(monkeypatch):
    """The pack catalogue with the real files' checksums and sizes removed, so the tiny
    test models can stand in for the real downloads."""
    real = packs.catalogue()
    spec = json.loads(json.dumps(real))
    for entry in spec.values():
        for key in ("sha256", "md5", "bytes"):
            entry.pop(key, None)
    monkeypatch.setattr(packs, "catalogue", lambda: spec)
    return spec


def test_real_catalogue_rejects_a_file_that_is_not_the_published_model(user_models, tmp_path):
    """salient_object carries rembg's pinned size/md5: a stand-in file is refused, nothing is copied."""
    assert packs.catalogue()["salient_object"]["md5"]
    src = conv_model(tmp_path / "u2net.onnx", [1, 3, 32, 32], 1, name="input.1")
    result = CliRunner().invoke(main, ["models", "install", "salient_object", "--from", str(src)])
    assert result.exit_code != 0 and "u2net.onnx" in result.output and "wrong or partial download" in result.output
    assert not (user_models / "u2net.onnx").exists() and not packs.is_installed("salient_object")


def test_salient_pack_install_and_adapter(user_models, tmp_path, stand_in_specs):
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


def test_pack_install_rejects_a_non_model(user_models, tmp_path, stand_in_specs):
    junk = tmp_path / "u2net.onnx"
    junk.write_bytes(b"not onnx")
    result = CliRunner().invoke(main, ["models", "install", "salient_object", "--from", str(junk)])
    assert result.exit_code != 0 and "not a loadable ONNX model" in result.output
    assert not packs.is_installed("salient_object")


def sam_like(tmp_path, w=None, wd=None):
    """Encoder 1x3x64x64 -> embeddings 1x4x16x16; decoder takes SAM's named inputs and returns
    masks (1,1,H,W) at orig_im_size by upsampling a conv of the embedding plus the prompt.
    ``w``/``wd`` replace the random encoder/decoder weights."""
    enc = tmp_path / "enc.onnx"
    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.3, (4, 3, 4, 4)).astype(np.float32) if w is None else w
    g = helper.make_graph([helper.make_node("Conv", ["image", "w"], ["emb"], strides=[4, 4])], "enc",
                          [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])],
                          [helper.make_tensor_value_info("emb", TensorProto.FLOAT, [1, 4, 16, 16])],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, enc)
    dec = tmp_path / "dec.onnx"
    wd = rng.normal(0, 0.3, (1, 4, 1, 1)).astype(np.float32) if wd is None else wd
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


def test_promptable_pack_box_prompt(user_models, tmp_path, stand_in_specs):
    enc, dec = sam_like(tmp_path)
    assert packs.install("promptable", [enc, dec]) == ["promptable.encoder", "promptable.decoder"]
    rgb = np.random.default_rng(2).random((30, 50, 3)).astype(np.float32)
    pack = packs.PromptablePack()
    a = pack.predict(rgb, box=[0.1, 0.1, 0.6, 0.8])
    b = pack.predict(rgb, points=[(0.5, 0.5, 1)])
    assert a.shape == (30, 50) and b.shape == (30, 50)
    assert not np.allclose(a, b)  # the prompt reaches the decoder
    # One encoding per image: the second prompt reused the first's embedding.
    assert pack._encode(rgb)[0] is pack._encode(rgb.copy())[0]
    assert pack._encode(rgb[::-1].copy())[0] is not pack._encode(rgb)[0]
    with pytest.raises(ValueError):
        pack.predict(rgb)


def test_face_parsing_pack_labels(user_models, tmp_path, stand_in_specs):
    src = conv_model(tmp_path / "face_parsing_bisenet.onnx", [1, 3, 32, 32], 19, seed=5)
    packs.install("face_parsing", [src])
    face = np.random.default_rng(4).random((40, 36, 3)).astype(np.float32)
    labels = packs.FaceParsingPack().predict(face)
    assert labels.shape == (40, 36) and labels.max() < 19 and len(np.unique(labels)) > 1
    lips = packs.FaceParsingPack().part(face, "u_lip", "l_lip")
    assert set(np.unique(lips)) <= {0.0, 1.0}


def test_pack_install_checks_a_known_sha256(user_models, tmp_path, stand_in_specs):
    src = conv_model(tmp_path / "u2net.onnx", [1, 3, 32, 32], 1, name="input.1")
    spec = stand_in_specs
    spec["salient_object"]["sha256"] = "0" * 64
    with pytest.raises(ModelError, match=r"u2net\.onnx: sha256 .* does not match pack 'salient_object'"):
        packs.install("salient_object", [src])
    assert not (user_models / "u2net.onnx").exists() and not packs.is_installed("salient_object")
    spec["salient_object"]["sha256"] = model_store.sha256_file(src)
    assert packs.install("salient_object", [src]) == ["salient_object"]
    assert model_store.verify("salient_object") == user_models / "u2net.onnx"


def test_installed_pack_file_changed_later_is_reported(user_models, tmp_path, stand_in_specs):
    src = conv_model(tmp_path / "face_parsing_bisenet.onnx", [1, 3, 32, 32], 19)
    packs.install("face_parsing", [src])
    (user_models / "face_parsing_bisenet.onnx").write_bytes(b"truncated")
    result = CliRunner().invoke(main, ["models", "verify"])
    assert result.exit_code == 1 and "face_parsing_bisenet.onnx: model file 'face_parsing' is corrupt" in result.output
    with pytest.raises(ModelError, match="corrupt"):
        packs.FaceParsingPack().predict(np.zeros((8, 8, 3), np.float32))


def test_pack_install_checks_a_published_md5(user_models, tmp_path, stand_in_specs):
    src = conv_model(tmp_path / "u2net.onnx", [1, 3, 32, 32], 1, name="input.1")
    stand_in_specs["salient_object"].update(md5="0" * 32, bytes=src.stat().st_size)
    with pytest.raises(ModelError, match=r"u2net\.onnx: md5 does not match pack 'salient_object'"):
        packs.install("salient_object", [src])
    stand_in_specs["salient_object"]["md5"] = hashlib.md5(src.read_bytes()).hexdigest()
    assert packs.install("salient_object", [src]) == ["salient_object"]


# --- the mask kinds use an installed pack, and fall back to the classical path without it


def red_detector(path):
    """A 'salient-object model' that answers the red channel: 1x3x32x32 -> 1x1x32x32."""
    w = np.zeros((1, 3, 1, 1), np.float32)
    w[0, 0] = 1.0
    g = helper.make_graph([helper.make_node("Conv", ["input.1", "w"], ["y"])], "red",
                          [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 32, 32])],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


def red_corner_scene(size=(120, 160)):
    """A red block in the top-left corner (touching the border: the classical subject
    never takes it) and a distinct blue disc in the centre (what the classical path takes)."""
    h, w = size
    rng = np.random.default_rng(7)
    img = np.clip(np.array([0.3, 0.45, 0.3], np.float32) + rng.normal(0, 0.03, (h, w, 3)), 0, 1).astype(np.float32)
    red = np.zeros((h, w), bool)
    red[:45, :60] = True
    img[red] = [0.9, 0.1, 0.1]
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (yy - h * 0.6) ** 2 + (xx - w * 0.6) ** 2 < (0.18 * h) ** 2
    img[disc] = [0.1, 0.2, 0.95]
    return img, red, disc


def test_subject_uses_the_installed_salient_pack(user_models, tmp_path, stand_in_specs):
    from maskroom.engine.masks.cache import kind_version
    from maskroom.engine.masks.compose import derive
    from tools.evaluate import iou
    from maskroom.engine.masks.registry import MaskInput
    from maskroom.core.recipe import MaskComponent

    img, red, disc = red_corner_scene()
    inp = MaskInput(image=img, digest="scene")
    # Without a pack: the shipped salient model, or the classical path when it is switched off.
    assert derive(inp, MaskComponent(kind="subject", params={"people": False})).info["method"] == "salient"
    before = derive(inp, MaskComponent(kind="subject", params={"people": False, "salient": False}))
    assert before.info["method"] == "classic" and iou(before.alpha > 0.5, red) < 0.3
    version_before = kind_version("subject")

    packs.install("salient_object", [red_detector(tmp_path / "u2net.onnx")])
    res = derive(inp, MaskComponent(kind="subject", params={"people": False}))
    assert res.info["method"] == "pack" and res.model == "subject-pack"
    assert iou(res.alpha > 0.5, red) > 0.9
    assert kind_version("subject") != version_before  # cached rasters go stale on install
    back = derive(inp, MaskComponent(kind="background", params={"people": False}))
    assert np.allclose(back.alpha, 1 - res.alpha, atol=1e-5)
    # The classical path stays reachable (and is what the pack-less install runs).
    forced = derive(inp, MaskComponent(kind="subject", params={"people": False, "pack": False, "salient": False}))
    assert forced.info["method"] == "classic" and np.array_equal(forced.alpha, before.alpha)


def test_object_uses_the_installed_promptable_pack(user_models, tmp_path, stand_in_specs):
    """A SAM-like pair whose mask is 'red': the box's red object is the answer; a red thing
    outside the box is not, though the pack's raw matte has it."""
    from maskroom.engine.masks.cache import kind_version
    from maskroom.engine.masks.compose import derive
    from tools.evaluate import iou
    from maskroom.engine.masks.registry import MaskInput
    from maskroom.core.recipe import MaskComponent

    n = 160  # square: the tiny decoder resizes its whole grid (a real SAM decoder crops the padding)
    rng = np.random.default_rng(9)
    img = np.clip(np.array([0.35, 0.4, 0.35], np.float32) + rng.normal(0, 0.03, (n, n, 3)), 0, 1).astype(np.float32)
    yy, xx = np.mgrid[0:n, 0:n]
    obj = (yy - 60) ** 2 + (xx - 55) ** 2 < 28 ** 2
    other = (yy - 125) ** 2 + (xx - 125) ** 2 < 20 ** 2
    img[obj | other] = [0.9, 0.15, 0.1]
    w = np.zeros((4, 3, 4, 4), np.float32)
    w[0, 0] = 1 / 16  # embedding channel 0 = mean red of the 4x4 patch
    wd = np.zeros((1, 4, 1, 1), np.float32)
    wd[0, 0] = 4.0
    enc, dec = sam_like(tmp_path, w=w, wd=wd)
    inp = MaskInput(image=img, digest="two-red")
    comp = MaskComponent(kind="object", params={"box": [0.1, 0.1, 0.62, 0.62]})
    version_before = kind_version("object")
    assert derive(inp, comp).info["method"] in ("salient", "grabcut")  # no pack: the shipped paths

    packs.install("promptable", [enc, dec])
    raw = packs.PromptablePack().predict(img, box=[0.1, 0.1, 0.62, 0.62]) > 0.5
    assert raw[obj].mean() > 0.8 and raw[other].mean() > 0.8  # the pack alone takes both red things
    res = derive(inp, comp)
    assert res.info["method"] == "promptable" and res.model == "object-promptable"
    assert iou(res.alpha > 0.5, obj) > 0.85
    assert res.alpha[other].max() == 0.0
    assert kind_version("object") != version_before
    lasso = derive(inp, MaskComponent(kind="object", params={"lasso": [[0.1, 0.1], [0.62, 0.1], [0.1, 0.62]]}))
    assert lasso.info["method"] == "promptable"
    assert (lasso.alpha > 0.5).sum() < (res.alpha > 0.5).sum()  # the lasso limits the matte
    assert derive(inp, MaskComponent(kind="object", params={**comp.params, "pack": False, "salient": False})
                  ).info["method"] == "grabcut"
