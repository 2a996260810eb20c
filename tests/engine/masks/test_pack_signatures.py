"""Model packs refuse a wrong file at install time, with one line (issue 13, defect 9).

face_parsing and promptable are published without a pinned sha256, so the install
checks the ONNX signature their adapters need (and a pinned digest where there is
one).  The models are tiny ones the tests build; nothing is downloaded.
"""
from __future__ import annotations

import onnx
from click.testing import CliRunner
from onnx import TensorProto, helper

from maskroom.cli import main
from maskroom.engine.masks import model_store, packs
from model_helpers import conv_model
from test_model_packs import sam_like, stand_in_specs  # noqa: F401  (fixture)


def install(pack, *files):
    args = ["models", "install", pack]
    for f in files:
        args += ["--from", str(f)]
    return CliRunner().invoke(main, args)


def refused(result, *words):
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    assert all(w in lines[0] for w in words), lines[0]


def test_face_parsing_refuses_a_model_with_the_wrong_output(user_models, tmp_path, stand_in_specs):
    one_map = conv_model(tmp_path / "saliency.onnx", [1, 3, 32, 32], 1)  # a salient model, not 19 classes
    refused(install("face_parsing", one_map), "saliency.onnx", "face_parsing", "19 class maps")
    assert not packs.is_installed("face_parsing") and not list(user_models.glob("*.onnx"))


def test_face_parsing_refuses_a_model_with_the_wrong_inputs(user_models, tmp_path, stand_in_specs):
    _enc, dec = sam_like(tmp_path)
    refused(install("face_parsing", dec), "dec.onnx", "expected one image")
    gray = conv_model(tmp_path / "gray.onnx", [1, 1, 32, 32], 19)
    refused(install("face_parsing", gray), "gray.onnx", "[1, 3, H, W]")
    assert not packs.is_installed("face_parsing")


def test_promptable_refuses_swapped_files_and_installs_nothing(user_models, tmp_path, stand_in_specs):
    enc, dec = sam_like(tmp_path)
    refused(install("promptable", dec, enc), "dec.onnx", "encoder")
    assert not packs.is_installed("promptable") and not list(user_models.glob("*.onnx"))
    assert install("promptable", enc, dec).exit_code == 0
    assert packs.is_installed("promptable")


def test_promptable_refuses_a_decoder_without_the_prompt_inputs(user_models, tmp_path, stand_in_specs):
    enc, _dec = sam_like(tmp_path)
    bad = tmp_path / "bad_dec.onnx"
    g = helper.make_graph([helper.make_node("Identity", ["image_embeddings"], ["masks"])], "dec",
                          [helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 4, 16, 16])],
                          [helper.make_tensor_value_info("masks", TensorProto.FLOAT, [1, 4, 16, 16])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, bad)
    refused(install("promptable", enc, bad), "bad_dec.onnx", "point_coords")
    assert not list(user_models.glob("*.onnx"))


def test_a_pinned_sha256_is_checked_for_face_parsing(user_models, tmp_path, stand_in_specs):
    src = conv_model(tmp_path / "face_parsing_bisenet.onnx", [1, 3, 32, 32], 19)
    stand_in_specs["face_parsing"]["sha256"] = "0" * 64
    refused(install("face_parsing", src), "sha256", "face_parsing")
    stand_in_specs["face_parsing"]["sha256"] = model_store.sha256_file(src)
    assert install("face_parsing", src).exit_code == 0
