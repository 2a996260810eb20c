"""Helpers for the model tests: tiny random-weight ONNX models built with the onnx helper API."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


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
