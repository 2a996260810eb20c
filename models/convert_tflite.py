"""Convert MediaPipe .tflite models to ONNX (development tool, run in .venv-convert).

    .venv-convert/bin/python models/convert_tflite.py UPSTREAM/mediapipe OUTDIR

tf2onnx converts the standard ops.  The selfie segmentation models end in
MediaPipe's custom ``Convolution2DTransposeBias`` op (a 2x2, stride-2 transposed
convolution with bias); tf2onnx leaves it as an unknown node, which is rewritten
here as Transpose(NHWC->NCHW) -> ConvTranspose -> Transpose(NCHW->NHWC) with the
weights moved from OHWI to IOHW.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

MODELS = {
    "face_detection_short_range": "face_detection_short_range.tflite",
    "face_landmark": "face_landmark.tflite",
    "iris_landmark": "iris_landmark.tflite",
    "pose_landmark_full": "pose_landmark_full.tflite",
    "selfie_segmentation": "selfie_segmentation.tflite",
    "selfie_segmentation_landscape": "selfie_segmentation_landscape.tflite",
}


def rewrite_transpose_conv_bias(model: onnx.ModelProto) -> int:
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    count = 0
    for idx, node in enumerate(list(g.node)):
        if "Convolution2DTransposeBias" not in node.op_type:
            continue
        x, w_name, b_name = node.input[:3]
        w = numpy_helper.to_array(inits[w_name])  # OHWI
        b = numpy_helper.to_array(inits[b_name])
        w_iohw = np.ascontiguousarray(w.transpose(3, 0, 1, 2)).astype(np.float32)
        kh, kw = w.shape[1], w.shape[2]
        new_w = numpy_helper.from_array(w_iohw, w_name + "_iohw")
        new_b = numpy_helper.from_array(b.astype(np.float32), b_name + "_f")
        g.initializer.extend([new_w, new_b])
        t_in, ct = node.name + "_nchw", node.name + "_ct"
        nodes = [
            helper.make_node("Transpose", [x], [t_in], perm=[0, 3, 1, 2], name=node.name + "_t0"),
            helper.make_node("ConvTranspose", [t_in, new_w.name, new_b.name], [ct], name=node.name + "_convT",
                             kernel_shape=[kh, kw], strides=[2, 2]),
            helper.make_node("Transpose", [ct], [node.output[0]], perm=[0, 2, 3, 1], name=node.name + "_t1"),
        ]
        pos = list(g.node).index(node)
        g.node.remove(node)
        for k, n in enumerate(nodes):
            g.node.insert(pos + k, n)
        count += 1
    # drop custom-domain opset imports that no node uses any more
    used = {n.domain for n in g.node}
    keep = [o for o in model.opset_import if o.domain in ("", "ai.onnx") or o.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(keep)
    return count


def convert_one(src: Path, dest: Path) -> None:
    import tf2onnx

    model, _ = tf2onnx.convert.from_tflite(str(src), opset=13)
    n = rewrite_transpose_conv_bias(model)
    if any(node.op_type == "HardSwish" for node in model.graph.node):
        # tf2onnx emits ONNX's own HardSwish but declares opset 13; the op exists from 14.
        for o in model.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = max(o.version, 14)
    onnx.save(model, str(dest))
    print(f"{dest.name}: converted ({n} custom transposed convolutions rewritten)")


def main(argv: list[str]) -> None:
    upstream, out = Path(argv[0]), Path(argv[1])
    only = argv[2:] or list(MODELS)
    for name in only:
        convert_one(upstream / MODELS[name], out / f"{name}.onnx")


if __name__ == "__main__":
    main(sys.argv[1:])
