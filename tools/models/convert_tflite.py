"""Convert MediaPipe .tflite models to ONNX (development tool, run in .venv-convert).

    .venv-convert/bin/python tools/models/convert_tflite.py UPSTREAM/mediapipe OUTDIR

tf2onnx converts the standard ops.  MediaPipe's custom ops (the selfie
models' final ``Convolution2DTransposeBias``; hair segmentation's transposed
convolutions and ``MaxPoolingWithArgmax2D``/``MaxUnpooling2D`` pairs) are left by
tf2onnx as unknown nodes and rewritten here as standard ONNX ops
(see ``rewrite_custom_ops``).
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
    "hair_segmentation": "hair_segmentation.tflite",
    "pose_detection": "pose_detection.tflite",
    "face_landmark_with_attention": "face_landmark_with_attention.tflite",
}
# ONNX opset per model (default 13): the attention mesh's bilinear crop is a GridSample (opset 16).
OPSET = {"face_landmark_with_attention": 16}


def _replace(g: onnx.GraphProto, node: onnx.NodeProto, nodes: list[onnx.NodeProto]) -> None:
    pos = list(g.node).index(node)
    g.node.remove(node)
    for k, n in enumerate(nodes):
        g.node.insert(pos + k, n)


def _to_nchw(x: str, name: str) -> onnx.NodeProto:
    return helper.make_node("Transpose", [x], [name], perm=[0, 3, 1, 2], name=name)


def _to_nhwc(x: str, out: str, name: str) -> onnx.NodeProto:
    return helper.make_node("Transpose", [x], [out], perm=[0, 2, 3, 1], name=name)


class _Builder:
    """Collects the standard nodes (and constants) that replace one custom node."""

    def __init__(self, g: onnx.GraphProto, prefix: str):
        self.g, self.p, self.nodes, self.k = g, prefix, [], 0

    def const(self, value, dtype=np.float32) -> str:
        self.k += 1
        name = f"{self.p}_c{self.k}"
        self.g.initializer.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], out: str | None = None, **attrs) -> str:
        self.k += 1
        out = out or f"{self.p}_{op_type.lower()}{self.k}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"{self.p}_n{self.k}", **attrs))
        return out

    def affine_parts(self, m: str) -> tuple[str, str]:
        """(A [1,2,2], t [1,1,2]) of a MediaPipe 4x4 matrix: x' = A @ (x, y) + t (z ignored: it is 0)."""
        a = self.op("Slice", [m, self.const([0, 0], np.int64), self.const([2, 2], np.int64),
                              self.const([1, 2], np.int64)])
        t = self.op("Slice", [m, self.const([0, 3], np.int64), self.const([2, 4], np.int64),
                              self.const([1, 2], np.int64)])  # [1,2,1]
        return a, self.op("Transpose", [t], perm=[0, 2, 1])

    def apply_affine(self, pts: str, a: str, t: str, out: str | None = None) -> str:
        """Row points [1,N,2] -> pts @ A^T + t."""
        return self.op("Add", [self.op("MatMul", [pts, self.op("Transpose", [a], perm=[0, 2, 1])]), t], out)


def _landmarks_to_transform_matrix(b: _Builder, lm: str, out: str, attrs: dict) -> None:
    """MediaPipe ``Landmarks2TransformMatrix`` v2 from its definition: the crop matrix
    (output pixel -> input pixel) of a box around a landmark subset.

    r = target - atan2(right - left); the subset, rotated by r, gives the box (min/max)
    whose centre, rotated back, is the crop centre c; then
    T = shift(c) . rot(-r) . scale(scale_x * box_w / out_w, scale_y * box_h / out_h) . shift(-out/2).
    No atan2 in ONNX: cos r, sin r come from the unit eye-line vector (angle-difference identities)."""
    xy = b.op("Slice", [lm, b.const([0], np.int64), b.const([2], np.int64), b.const([2], np.int64)])  # [1,468,2]
    sub = b.op("Gather", [xy, b.const(attrs["subset_idxs"], np.int64)], axis=1)  # [1,S,2]
    left = b.op("Gather", [xy, b.const(attrs["left_rotation_idx"], np.int64)], axis=1)  # [1,2]
    right = b.op("Gather", [xy, b.const(attrs["right_rotation_idx"], np.int64)], axis=1)
    d = b.op("Sub", [right, left])
    length = b.op("Sqrt", [b.op("ReduceSum", [b.op("Mul", [d, d]), b.const([1], np.int64)], keepdims=1)])
    unit = b.op("Div", [d, b.op("Max", [length, b.const([1e-30])])])  # (cos a, sin a), a = eye-line angle
    cos_a = b.op("Slice", [unit, b.const([0], np.int64), b.const([1], np.int64), b.const([1], np.int64)])
    sin_a = b.op("Slice", [unit, b.const([1], np.int64), b.const([2], np.int64), b.const([1], np.int64)])
    t0 = float(attrs.get("target_rotation_radians", 0.0))
    ct, st = np.float32(np.cos(t0)), np.float32(np.sin(t0))
    # r = t0 - a: cos r = cos t0 cos a + sin t0 sin a, sin r = sin t0 cos a - cos t0 sin a
    cos_r = b.op("Add", [b.op("Mul", [cos_a, b.const([ct])]), b.op("Mul", [sin_a, b.const([st])])])
    sin_r = b.op("Sub", [b.op("Mul", [cos_a, b.const([st])]), b.op("Mul", [sin_a, b.const([ct])])])
    neg_sin = b.op("Neg", [sin_r])
    # M = rot(-r) = [[cos r, sin r], [-sin r, cos r]]; rotating row points by +r is pts @ M.
    m = b.op("Reshape", [b.op("Concat", [cos_r, sin_r, neg_sin, cos_r], axis=1), b.const([1, 2, 2], np.int64)])
    rot = b.op("MatMul", [sub, m])
    hi = b.op("ReduceMax", [rot], axes=[1], keepdims=1)  # [1,1,2]
    lo = b.op("ReduceMin", [rot], axes=[1], keepdims=1)
    size = b.op("Sub", [hi, lo])
    mid = b.op("Mul", [b.op("Add", [hi, lo]), b.const([0.5])])
    centre = b.op("MatMul", [mid, b.op("Transpose", [m], perm=[0, 2, 1])])  # rot(-r) @ mid, as a row
    ow, oh = float(attrs["output_width"]), float(attrs["output_height"])
    k = b.op("Mul", [size, b.const([[[attrs["scale_x"] / ow, attrs["scale_y"] / oh]]])])  # [1,1,2]
    a = b.op("Mul", [m, k])  # rot(-r) . diag(k): column j scaled by k_j
    t = b.op("Sub", [centre, b.op("Transpose", [b.op("ReduceSum", [b.op("Mul", [a, b.const([[[ow / 2, oh / 2]]])]),
                                                                  b.const([2], np.int64)], keepdims=1)], perm=[0, 2, 1])])  # [1,1,2]
    top = b.op("Concat", [a, b.const(np.zeros((1, 2, 1))), b.op("Transpose", [t], perm=[0, 2, 1])], axis=2)
    b.op("Concat", [top, b.const([[[0, 0, 1, 0], [0, 0, 0, 1]]])], out, axis=1)


def _transform_tensor_bilinear(b: _Builder, x: str, m: str, out: str, attrs: dict) -> None:
    """MediaPipe ``TransformTensorBilinear`` v2: out[v, u] = bilinear sample of the NHWC
    input at A @ (u + 0.5, v + 0.5) + t - 0.5 (the pixel-centre correction), zero when
    that point lies outside [0, W-1] x [0, H-1].  GridSample(align_corners=1, zeros)
    samples the same way inside; the outside points are zeroed by a mask (GridSample
    would blend in border pixels there)."""
    ow, oh = int(attrs["output_width"]), int(attrs["output_height"])
    vs, us = np.mgrid[0:oh, 0:ow].astype(np.float32)
    pts = b.const(np.stack([us + 0.5, vs + 0.5], -1).reshape(1, -1, 2))
    a, t = b.affine_parts(m)
    tc = b.op("Sub", [b.apply_affine(pts, a, t), b.const([0.5])])  # [1,N,2] input pixel coordinates
    wh = b.op("Cast", [b.op("Gather", [b.op("Shape", [x]), b.const([2, 1], np.int64)])], to=onnx.TensorProto.FLOAT)
    last = b.op("Sub", [wh, b.const([1.0])])  # (W-1, H-1)
    inside = b.op("Cast", [b.op("And", [b.op("GreaterOrEqual", [tc, b.const([0.0])]),
                                        b.op("LessOrEqual", [tc, last])])], to=onnx.TensorProto.FLOAT)
    mask = b.op("Reshape", [b.op("ReduceMin", [inside], axes=[2], keepdims=1), b.const([1, oh, ow, 1], np.int64)])
    grid = b.op("Sub", [b.op("Mul", [tc, b.op("Div", [b.const([2.0]), last])]), b.const([1.0])])
    grid = b.op("Reshape", [grid, b.const([1, oh, ow, 2], np.int64)])
    xn = b.op("Transpose", [x], perm=[0, 3, 1, 2])
    y = b.op("GridSample", [xn, grid], mode="bilinear", padding_mode="zeros", align_corners=1)
    b.op("Mul", [b.op("Transpose", [y], perm=[0, 2, 3, 1]), mask], out)


def _transform_landmarks(b: _Builder, pts: str, m: str, out: str) -> None:
    """MediaPipe ``TransformLandmarks`` v2 (2-D points [1,N,2]): A @ p + t."""
    a, t = b.affine_parts(m)
    b.apply_affine(pts, a, t, out)


def rewrite_custom_ops(model: onnx.ModelProto) -> dict[str, int]:
    """Replace MediaPipe's custom TFLite ops (left by tf2onnx as unknown nodes) by standard ONNX.

    - Convolution2DTransposeBias: stride-2 transposed convolution with bias and TF "SAME"
      padding (output = 2 x input): ConvTranspose with the weights moved OHWI -> IOHW and
      the (kernel - 2) surplus cropped TF-style (the odd pixel at the end).
    - The attention face mesh's Landmarks2TransformMatrix, TransformTensorBilinear and
      TransformLandmarks (v2): arithmetic + MatMul, GridSample, MatMul (see their builders).
    - MaxPoolingWithArgmax2D (2x2, stride 2) -> MaxPool with its Indices output, and
      MaxUnpooling2D -> MaxUnpool fed by those indices.  MediaPipe's index encoding is
      never materialised: the pair is rewritten together, in NCHW, so ONNX's own
      (flattened NCHW) indices travel from the pool to its unpool.
    The graph is NHWC (tf2onnx keeps TFLite's layout), hence the Transposes around each.
    """
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    counts: dict[str, int] = {}
    nchw_indices: dict[str, str] = {}  # TFLite indices tensor -> ONNX NCHW indices tensor
    for node in list(g.node):
        op = node.op_type.removeprefix("TFL_")
        n = node.name or node.output[0]
        if op == "Convolution2DTransposeBias":
            x, w_name, b_name = node.input[:3]
            w = numpy_helper.to_array(inits[w_name]).astype(np.float32)  # OHWI
            b = numpy_helper.to_array(inits[b_name]).astype(np.float32)
            kh, kw = w.shape[1], w.shape[2]
            new_w = numpy_helper.from_array(np.ascontiguousarray(w.transpose(3, 0, 1, 2)), w_name + "_iohw")
            new_b = numpy_helper.from_array(b, b_name + "_f")
            g.initializer.extend([new_w, new_b])
            ph, pw = kh - 2, kw - 2  # surplus over 2x the input size; TF SAME crops floor(p/2) first
            pads = [ph // 2, pw // 2, ph - ph // 2, pw - pw // 2]
            _replace(g, node, [
                _to_nchw(x, n + "_nchw"),
                helper.make_node("ConvTranspose", [n + "_nchw", new_w.name, new_b.name], [n + "_ct"],
                                 name=n + "_convT", kernel_shape=[kh, kw], strides=[2, 2], pads=pads),
                _to_nhwc(n + "_ct", node.output[0], n + "_nhwc"),
            ])
        elif op == "MaxPoolingWithArgmax2D":
            nchw_indices[node.output[1]] = n + "_idx"
            _replace(g, node, [
                _to_nchw(node.input[0], n + "_nchw"),
                helper.make_node("MaxPool", [n + "_nchw"], [n + "_pool", n + "_idx"], name=n + "_maxpool",
                                 kernel_shape=[2, 2], strides=[2, 2]),
                _to_nhwc(n + "_pool", node.output[0], n + "_nhwc"),
            ])
        elif op == "MaxUnpooling2D":
            idx = nchw_indices[node.input[1]]  # pools come before their unpools in graph order
            _replace(g, node, [
                _to_nchw(node.input[0], n + "_nchw"),
                helper.make_node("MaxUnpool", [n + "_nchw", idx], [n + "_unpool"], name=n + "_maxunpool",
                                 kernel_shape=[2, 2], strides=[2, 2]),
                _to_nhwc(n + "_unpool", node.output[0], n + "_nhwc"),
            ])
        elif op in ("Landmarks2TransformMatrix", "TransformTensorBilinear", "TransformLandmarks"):
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            b = _Builder(g, n)
            if op == "Landmarks2TransformMatrix":
                _landmarks_to_transform_matrix(b, node.input[0], node.output[0], attrs)
            elif op == "TransformTensorBilinear":
                _transform_tensor_bilinear(b, node.input[0], node.input[1], node.output[0], attrs)
            else:
                _transform_landmarks(b, node.input[0], node.input[1], node.output[0])
            _replace(g, node, b.nodes)
        else:
            continue
        counts[op] = counts.get(op, 0) + 1
    left = sorted({nd.op_type for nd in g.node if nd.op_type.startswith("TFL_")})
    if left:
        raise SystemExit(f"custom ops left that have no rewrite: {', '.join(left)}")
    # drop the replaced OHWI weights and custom-domain opset imports that nothing uses any more
    needed = {i for nd in g.node for i in nd.input}
    for init in [i for i in g.initializer if i.name not in needed]:
        g.initializer.remove(init)
    used = {nd.domain for nd in g.node}
    keep = [o for o in model.opset_import if o.domain in ("", "ai.onnx") or o.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(keep)
    return counts


def _densify_values(shape, sparsity, values: np.ndarray) -> np.ndarray:
    """The dense array of a TFLite sparse tensor (TFLite's FormatConverter, in numpy).

    ``dimMetadata`` lists the dimensions in ``traversalOrder`` (the original
    dimensions, then one per ``blockMap`` entry); a DENSE dimension runs over
    ``denseSize``, a SPARSE_CSR one over ``arrayIndices[arraySegments[p]:arraySegments[p+1]]``
    where p is the position reached in the dimensions before it.  The stored values
    come in exactly that visiting order."""
    rank = len(shape)
    order = list(sparsity.traversalOrder)
    block_map = list(sparsity.blockMap) if sparsity.blockMap is not None else []
    dims = sparsity.dimMetadata
    block_size = {block_map[k]: dims[order.index(rank + k)].denseSize for k in range(len(block_map))}
    out = np.zeros(shape, values.dtype)
    coords = [0] * len(order)
    pos = 0

    def visit(level: int, parent: int) -> None:
        nonlocal pos
        if level == len(order):
            idx = []
            for d in range(rank):
                c = coords[order.index(d)]
                if d in block_size:  # outer block index x block size + position in the block
                    c = c * block_size[d] + coords[order.index(rank + block_map.index(d))]
                idx.append(c)
            out[tuple(idx)] = values[pos]
            pos += 1
            return
        dm = dims[level]
        if dm.format == 0:  # DENSE
            for i in range(dm.denseSize):
                coords[level] = i
                visit(level + 1, parent * dm.denseSize + i)
        else:  # SPARSE_CSR
            segs, inds = np.asarray(dm.arraySegments.values), np.asarray(dm.arrayIndices.values)
            for j in range(int(segs[parent]), int(segs[parent + 1])):
                coords[level] = int(inds[j])
                visit(level + 1, j)

    visit(0, 0)
    if pos != len(values):
        raise ValueError(f"sparse tensor: {len(values)} values stored, {pos} visited")
    return out


def densify(src: Path, dest: Path) -> int:
    """Copy of a .tflite with every DENSIFY op removed: its sparse constant input is
    stored dense and the op's consumers read it directly.  tf2onnx has no DENSIFY
    (pose_detection stores 38 of its fp16 weights sparse).  Returns the ops removed."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(src))
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    dtypes = {schema.TensorType.FLOAT16: np.float16, schema.TensorType.FLOAT32: np.float32,
              schema.TensorType.INT8: np.int8}
    removed = 0
    for g in model.subgraphs:
        keep = []
        for op in g.operators:
            if codes[op.opcodeIndex] != schema.BuiltinOperator.DENSIFY:
                keep.append(op)
                continue
            src_t, out_t = op.inputs[0], op.outputs[0]
            t = g.tensors[src_t]
            buf = model.buffers[t.buffer]
            values = np.frombuffer(bytes(bytearray(buf.data)), dtypes[t.type])
            dense = _densify_values([int(v) for v in t.shape], t.sparsity, values)
            buf.data = np.frombuffer(dense.tobytes(), np.uint8)
            t.sparsity = None
            for other in g.operators:
                if other is not op and other.inputs is not None:
                    other.inputs = [src_t if i == out_t else i for i in other.inputs]
            removed += 1
        g.operators = keep
    flatbuffer_utils.write_model(model, str(dest))
    return removed


def convert_one(src: Path, dest: Path) -> None:
    import tempfile

    import tf2onnx

    with tempfile.TemporaryDirectory() as tmp:
        dense = Path(tmp) / src.name
        n_dense = densify(src, dense)
        model, _ = tf2onnx.convert.from_tflite(str(dense if n_dense else src), opset=OPSET.get(src.stem, 13))
    counts = rewrite_custom_ops(model)
    if any(node.op_type == "HardSwish" for node in model.graph.node):
        # tf2onnx emits ONNX's own HardSwish but declares opset 13; the op exists from 14.
        for o in model.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = max(o.version, 14)
    onnx.save(model, str(dest))
    if n_dense:
        counts["DENSIFY (stored dense)"] = n_dense
    done = ", ".join(f"{v} {k}" for k, v in counts.items()) or "no custom ops"
    print(f"{dest.name}: converted ({done} rewritten)")


def main(argv: list[str]) -> None:
    upstream, out = Path(argv[0]), Path(argv[1])
    only = argv[2:] or list(MODELS)
    for name in only:
        convert_one(upstream / MODELS[name], out / f"{name}.onnx")


if __name__ == "__main__":
    main(sys.argv[1:])
