"""Compare maskroom's ONNX models with their upstream runtimes on real photos (dev tool).

    python tools/models/check_conversion.py sky --samples ../shared/samples          # .venv + ncnn
    .venv-convert/bin/python tools/models/check_conversion.py mediapipe \\
        --upstream ../shared/models-upstream --samples ../shared/samples          # tf.lite
    python tools/models/check_conversion.py mediapipe-crops --out CROPS                 # .venv: face crops
    MPVENV/bin/python tools/models/check_conversion.py mediapipe-dump --images CROPS --out mp.npz  # mediapipe==0.10.21
    python tools/models/check_conversion.py mediapipe-e2e --images CROPS --against mp.npz          # .venv: our pipeline

Prints one markdown row per model (max abs diff over all outputs and photos, mean
IoU of the 0.5-thresholded maps where the output is a mask); CONVERSION.md
records the result.  Models with MediaPipe custom ops cannot run in tf.lite, so
for those the script checks (a) the TFLite graph cut just before the first
custom op against the same tensor in ONNX, and (b) every rewritten custom node
against TensorFlow's reference op applied to the ONNX node's own input.
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort

HERE = Path(__file__).resolve().parents[2] / "models"  # the committed ONNX files, manifest, licences
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp"}


def photos(folder: Path, n: int) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXT)[:n]


def load_rgb(path: Path, w: int, h: int) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)[:, :, ::-1].astype(np.float32)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def session(path: Path, extra_outputs: list[str] = ()) -> ort.InferenceSession:
    model = onnx.load(str(path))
    have = {o.name for o in model.graph.output}
    for name in extra_outputs:
        if name not in have:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def row(name: str, against: str, n: int, diff: float, ious: list[float] | None, note: str = "") -> None:
    iou_s = f"{np.mean(ious):.4f} (min {np.min(ious):.4f})" if ious else "—"
    print(f"| {name} | {against} | {n} | {diff:.2g} | {iou_s} | {note} |", flush=True)


# ---------------------------------------------------------------- sky (ncnn)
def check_sky(upstream: Path, samples: Path, n: int) -> None:
    import ncnn

    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)

    def u2_in(rgb):
        return ((rgb / 255 - mean) / std).transpose(2, 0, 1)

    def ege_in(rgb):
        x = (rgb - 117.790845) / 64.18484
        x = (x - x.min()) / (x.max() - x.min()) * 255  # as upstream EGE_test.cpp
        return x.transpose(2, 0, 1)

    for name, stem, inp, out, prep in [("sky_u2netp", "skysegsmall_sim-opt-fp16", "input.1", "1959", u2_in),
                                       ("sky_ege", "EGE_165.ncnn", "in0", "out5", ege_in)]:
        net = ncnn.Net()
        net.opt.use_fp16_storage = net.opt.use_fp16_packed = net.opt.use_fp16_arithmetic = False
        net.opt.num_threads = 2
        net.load_param(str(upstream / "skyseg" / f"{stem}.param"))
        net.load_model(str(upstream / "skyseg" / f"{stem}.bin"))
        sess = session(HERE / f"{name}.onnx")
        diffs, ious, files = [], [], photos(samples / "sky", n)
        for p in files:
            x = np.ascontiguousarray(prep(load_rgb(p, 384, 384)).astype(np.float32))
            ex = net.create_extractor()
            ex.input(inp, ncnn.Mat(x))
            _, m = ex.extract(out)
            ref = np.array(m).reshape(384, 384)
            got = sess.run(None, {inp: x[None]})[0].reshape(384, 384)
            diffs.append(float(np.abs(ref - got).max()))
            ious.append(iou(ref, got))
        row(name, f"ncnn {ncnn.__version__} (fp32 path)", len(files), max(diffs), ious)


# ---------------------------------------------------------------- MediaPipe (tf.lite)
MEDIAPIPE = {  # name -> (input normalisation, {mask output: "prob" or "logit"})
    "face_detection_short_range": (lambda x: x / 127.5 - 1, {}),
    "face_landmark": (lambda x: x / 255, {}),
    "iris_landmark": (lambda x: x / 255, {}),
    "pose_landmark_full": (lambda x: x / 255, {"Identity_2": "logit"}),
    "selfie_segmentation": (lambda x: x / 255, {"activation_10": "prob"}),
    "selfie_segmentation_landscape": (lambda x: x / 255, {"segment_back": "prob"}),
    "hair_segmentation": (lambda x: x / 255, {}),
    "pose_detection": (lambda x: x / 127.5 - 1, {}),  # upstream has DENSIFY: tf.lite runs it as is
    "face_landmark_with_attention": (lambda x: x / 255, {}),  # 3 kinds of MediaPipe custom op
}


def _prob(x: np.ndarray, kind: str) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x, -50, 50))) if kind == "logit" else x


def _clean(name) -> str:
    return name.decode() if isinstance(name, bytes) else name


def check_mediapipe(upstream: Path, samples: Path, n: int, only: str | None = None) -> None:
    import tensorflow as tf

    files = photos(samples / "portraits", n)
    for name, (norm, mask_outputs) in MEDIAPIPE.items():
        if only and name != only:
            continue
        path = upstream / "mediapipe" / f"{name}.tflite"
        sess = session(HERE / f"{name}.onnx")
        shape = sess.get_inputs()[0].shape
        h, w = shape[1], shape[2]

        def feed(p):
            x = norm(load_rgb(p, w, h))
            if shape[3] == 4:  # hair: RGB + previous mask (none for a still)
                x = np.concatenate([x, np.zeros((h, w, 1), np.float32)], axis=2)
            return x[None].astype(np.float32)

        custom = _custom_ops(path)
        if name == "face_landmark_with_attention":
            _check_attention(name, path, files, feed)
        elif not custom:
            interp = tf.lite.Interpreter(model_path=str(path), num_threads=2)
            interp.allocate_tensors()
            diffs, ious, per_out = [], [], {}
            for p in files:
                x = feed(p)
                interp.set_tensor(interp.get_input_details()[0]["index"], x)
                interp.invoke()
                ref = {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_output_details()}
                got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {sess.get_inputs()[0].name: x})))
                assert set(ref) == set(got), (sorted(ref), sorted(got))
                for k in ref:
                    r = ref[k].reshape(got[k].shape)
                    d = float(np.abs(r - got[k]).max())
                    diffs.append(d)
                    per_out[k] = max(per_out.get(k, 0.0), d / max(float(np.abs(r).max()), 1e-6))
                    if k in mask_outputs:
                        ious.append(iou(_prob(r, mask_outputs[k]), _prob(got[k], mask_outputs[k])))
            worst = max(per_out, key=per_out.get)
            row(name, f"tf.lite.Interpreter (TF {tf.__version__})", len(files), max(diffs), ious,
                f"{len(per_out)} outputs matched by name; largest diff relative to the output's range: "
                f"{per_out[worst]:.1g} ({worst})")
        else:
            _check_custom(name, path, sess, files, feed, custom)


def _custom_ops(path: Path) -> list[tuple[int, str, list[int], list[int]]]:
    from tensorflow.lite.tools import flatbuffer_utils as fu

    model = fu.read_model(str(path))
    sg = model.subgraphs[0]
    out = []
    for i, op in enumerate(sg.operators):
        code = model.operatorCodes[op.opcodeIndex].customCode
        if code:
            out.append((i, code.decode(), list(op.inputs), list(op.outputs)))
    return out


def _check_custom(name, path, sess, files, feed, custom) -> None:
    """Models with MediaPipe custom ops, which tf.lite cannot run.

    (a) Every standard op against tf.lite: the TFLite graph with its custom ops cut out,
        their outputs made graph inputs (fed with ONNX's values of those tensors) and
        their inputs made graph outputs, next to the model's own outputs.
    (b) Every rewritten custom node against TensorFlow's reference op applied to the
        ONNX node's own input.
    """
    import tensorflow as tf
    from tensorflow.lite.tools import flatbuffer_utils as fu

    onnx_model = onnx.load(str(HERE / f"{name}.onnx"))
    nodes = {nd.name: nd for nd in onnx_model.graph.node}
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in onnx_model.graph.initializer}
    kinds = {"ConvTranspose": ("_convT", "tconv"), "MaxPool": ("_maxpool", "pool"), "MaxUnpool": ("_maxunpool", "unpool")}
    probe = {}  # base -> (NHWC input tensor, NHWC output tensor = TFLite name, kind, node)
    for nd in onnx_model.graph.node:
        if nd.op_type in kinds and nd.name.endswith(kinds[nd.op_type][0]):
            base = nd.name.removesuffix(kinds[nd.op_type][0])
            probe[base] = (nodes[base + "_nchw"].input[0], nodes[base + "_nhwc"].output[0], kinds[nd.op_type][1], nd)
    by_output = {v[1]: v for v in probe.values()}
    pool_input = {nd.output[1]: probe[nd.name.removesuffix("_maxpool")][0] for _, _, k, nd in probe.values() if k == "pool"}

    model = fu.read_model(str(path))
    sg = model.subgraphs[0]
    tname = lambda i: _clean(sg.tensors[i].name)  # noqa: E731
    feeds, fetches = {}, {}  # TFLite tensor index -> ONNX tensor name
    custom_ids = {i for i, *_ in custom}
    consumed = {t for k, op in enumerate(sg.operators) if k not in custom_ids for t in op.inputs}
    for _, _, ins, outs in custom:
        v = by_output[tname(outs[0])]
        fetches[ins[0]] = v[0]
        for t in outs:
            if t in consumed:
                feeds[t] = tname(t)
    sg.operators = [op for k, op in enumerate(sg.operators) if k not in custom_ids]
    made_by_custom = {t for *_, outs in custom for t in outs}
    orig_in, orig_out = list(sg.inputs), [t for t in sg.outputs if t not in made_by_custom]
    sg.inputs = np.array(orig_in + sorted(feeds), np.int32)
    sg.outputs = np.array(orig_out + sorted(fetches), np.int32)
    interp = tf.lite.Interpreter(model_content=bytes(fu.convert_object_to_bytearray(model)), num_threads=2)
    interp.allocate_tensors()
    by_index = {d["index"]: d for d in interp.get_input_details() + interp.get_output_details()}

    extra = sorted({t for v in probe.values() for t in v[:2]})
    full = session(HERE / f"{name}.onnx", extra)
    out_names = [o.name for o in full.get_outputs()]
    std_diff, op_diff = [], {"tconv": [], "pool": [], "unpool": []}
    for p in files:
        x = feed(p)
        got = dict(zip(out_names, full.run(None, {full.get_inputs()[0].name: x})))
        interp.set_tensor(by_index[orig_in[0]]["index"], x)
        for t, onnx_name in feeds.items():
            interp.set_tensor(by_index[t]["index"], got[onnx_name].astype(np.float32))
        interp.invoke()
        for t in orig_out:
            std_diff.append(float(np.abs(interp.get_tensor(t) - got[tname(t)]).max()))
        for t, onnx_name in fetches.items():
            std_diff.append(float(np.abs(interp.get_tensor(t) - got[onnx_name]).max()))
        for tin, tout, kind, nd in probe.values():
            xin = got[tin]
            if kind == "tconv":
                w, b = inits[nd.input[1]], inits[nd.input[2]]  # IOHW
                out_shape = [1, xin.shape[1] * 2, xin.shape[2] * 2, w.shape[1]]
                r = tf.nn.conv2d_transpose(xin, w.transpose(2, 3, 1, 0), out_shape, strides=2, padding="SAME").numpy() + b
            elif kind == "pool":
                r = tf.nn.max_pool2d(xin, 2, 2, "SAME").numpy()
            else:  # unpool: scatter into the positions TF's argmax picks in the matching pool's input
                src = got[pool_input[nd.input[1]]]
                _, arg = tf.nn.max_pool_with_argmax(src, 2, 2, "SAME")
                r = np.zeros(src.size, np.float32)
                r[arg.numpy().ravel()] = xin.ravel()
                r = r.reshape(src.shape)
            op_diff[kind].append(float(np.abs(r - got[tout]).max()))
    counts = {k: len(v) // len(files) for k, v in op_diff.items() if v}
    note = ("tf.lite runs every standard op (custom ops cut out, fed ONNX's values); each rewritten node vs "
            f"TF's op: {', '.join(f'{k} x{c} max diff {max(op_diff[k]):.2g}' for k, c in counts.items())}")
    row(name, f"tf.lite (TF {tf.__version__}) minus custom ops + tf.nn reference ops", len(files), max(std_diff), None,
        note)


# ------------------------------------------- the attention mesh's custom ops, in numpy
# References written from MediaPipe's definitions (mediapipe/util/tflite/operations/
# landmarks_to_transform_matrix.cc, transform_tensor_bilinear.cc, transform_landmarks.cc,
# all v2), point by point and pixel by pixel, with trigonometry where the ONNX rewrite
# uses vector identities and explicit loops where it uses GridSample.
def ref_landmarks_to_transform_matrix(lm: np.ndarray, attrs: dict) -> np.ndarray:
    lm = lm.reshape(-1, 3).astype(np.float64)
    left, right = lm[attrs["left_rotation_idx"]], lm[attrs["right_rotation_idx"]]
    r = attrs.get("target_rotation_radians", 0.0) - np.arctan2(right[1] - left[1], right[0] - left[0])
    pts = lm[list(attrs["subset_idxs"]), :2]
    xr = pts[:, 0] * np.cos(r) - pts[:, 1] * np.sin(r)
    yr = pts[:, 0] * np.sin(r) + pts[:, 1] * np.cos(r)
    w, h = xr.max() - xr.min(), yr.max() - yr.min()
    mx, my = (xr.max() + xr.min()) / 2, (yr.max() + yr.min()) / 2
    cx, cy = mx * np.cos(-r) - my * np.sin(-r), mx * np.sin(-r) + my * np.cos(-r)

    def m4(a, b, tx, c, d, ty):
        return np.array([[a, b, 0, tx], [c, d, 0, ty], [0, 0, 1, 0], [0, 0, 0, 1]], np.float64)

    ow, oh = attrs["output_width"], attrs["output_height"]
    t = m4(1, 0, cx, 0, 1, cy)
    t = t @ m4(np.cos(-r), -np.sin(-r), 0, np.sin(-r), np.cos(-r), 0)
    t = t @ m4(attrs["scale_x"] * w / ow, 0, 0, 0, attrs["scale_y"] * h / oh, 0)
    t = t @ m4(1, 0, -ow / 2, 0, 1, -oh / 2)
    return t[None].astype(np.float32)


def ref_transform_tensor_bilinear(x: np.ndarray, m: np.ndarray, oh: int, ow: int) -> np.ndarray:
    x, m = x[0].astype(np.float64), m.reshape(4, 4).astype(np.float64)
    ih, iw, ch = x.shape
    rx, ry = m[0].copy(), m[1].copy()
    rx[3] += rx[0] * 0.5 + rx[1] * 0.5 - 0.5  # MediaPipe's pixel-centre correction
    ry[3] += ry[0] * 0.5 + ry[1] * 0.5 - 0.5
    out = np.zeros((oh, ow, ch))

    def read(yy, xx):
        return x[yy, xx] if 0 <= yy < ih and 0 <= xx < iw else np.zeros(ch)

    for v in range(oh):
        for u in range(ow):
            tx, ty = rx[0] * u + rx[1] * v + rx[3], ry[0] * u + ry[1] * v + ry[3]
            if tx < 0 or tx > iw - 1 or ty < 0 or ty > ih - 1:
                continue
            fx, fy = int(np.floor(tx)), int(np.floor(ty))
            ax, ay = tx - fx, ty - fy
            upper = (1 - ax) * read(fy, fx) + ax * read(fy, fx + 1)
            lower = (1 - ax) * read(fy + 1, fx) + ax * read(fy + 1, fx + 1)
            out[v, u] = ay * lower + (1 - ay) * upper
    return out[None].astype(np.float32)


def ref_transform_landmarks(pts: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, m = pts.reshape(-1, 2).astype(np.float64), m.reshape(4, 4).astype(np.float64)
    out = np.stack([m[0, 0] * p[:, 0] + m[0, 1] * p[:, 1] + m[0, 3], m[1, 0] * p[:, 0] + m[1, 1] * p[:, 1] + m[1, 3]], 1)
    return out.reshape(pts.shape).astype(np.float32)


def _check_attention(name, path, files, feed) -> None:
    """face_landmark_with_attention: (a) tf.lite with the 11 custom ops cut out runs
    every standard op, fed ONNX's values of the custom ops' outputs; each tensor it
    fetches (the custom ops' inputs, the model outputs) is compared with ONNX's tensor of
    the same name.  (b) every rewritten node against the numpy reference above applied
    to the ONNX node's own inputs.  The end-to-end comparison with the MediaPipe runtime
    is scripts-free: see CONVERSION.md."""
    import tensorflow as tf
    from flatbuffers import flexbuffers
    from tensorflow.lite.tools import flatbuffer_utils as fu

    model = fu.read_model(str(path))
    sg = model.subgraphs[0]
    tname = lambda i: _clean(sg.tensors[i].name)  # noqa: E731
    custom = []  # (kind, input tensor indices, output tensor index, options)
    for k, op in enumerate(sg.operators):
        code = model.operatorCodes[op.opcodeIndex].customCode
        if code:
            opts = flexbuffers.Loads(bytes(bytearray(op.customOptions))) if op.customOptions is not None else {}
            custom.append((k, code.decode(), list(op.inputs), int(op.outputs[0]), opts))
    ids = {c[0] for c in custom}
    outs_made = {c[3] for c in custom}
    consumed = {t for k, op in enumerate(sg.operators) if k not in ids for t in op.inputs}
    feeds = sorted(t for t in outs_made if t in consumed)
    fetches = sorted({t for c in custom for t in c[2]} - outs_made)
    orig_in, orig_out = list(sg.inputs), list(sg.outputs)
    sg.operators = [op for k, op in enumerate(sg.operators) if k not in ids]
    sg.inputs = np.array(orig_in + feeds, np.int32)
    sg.outputs = np.array(orig_out + fetches, np.int32)
    interp = tf.lite.Interpreter(model_content=bytes(fu.convert_object_to_bytearray(model)), num_threads=2)
    interp.allocate_tensors()
    det = {d["index"]: d for d in interp.get_input_details() + interp.get_output_details()}

    onnx_model = onnx.load(str(HERE / f"{name}.onnx"))
    have = {t for nd in onnx_model.graph.node for t in nd.output}
    # tf2onnx merges the three identical landmark scalings (one per custom crop) into one tensor
    scalings = ("multiply_by_constant", "multiply_by_constant_2", "multiply_by_constant_4")
    kept = next(n for n in scalings if n in have)
    alias = {n: kept for n in scalings if n != kept}
    wanted = [tname(t) for t in fetches + feeds] + [tname(c[3]) for c in custom]
    wanted = sorted({alias.get(n, n) for n in wanted} & have)
    # tf2onnx keeps convolutions NCHW: the bilinear crop's NHWC input is a Transpose of p_re_lu_3,
    # which the rewrite's own first node (a Transpose back to NCHW) reads
    nhwc_in = next(nd.input[0] for nd in onnx_model.graph.node
                   if nd.name.startswith("transform_tensor_bilinear_v2_n") and nd.op_type == "Transpose"
                   and list(nd.attribute[0].ints) == [0, 3, 1, 2])
    missing = {tname(t) for t in orig_out + fetches + feeds} - have - set(alias) - {"p_re_lu_3"}
    assert not missing, f"TFLite tensors with no ONNX namesake: {sorted(missing)}"
    sess = session(HERE / f"{name}.onnx", wanted + [nhwc_in])
    out_names = [o.name for o in sess.get_outputs()]
    std_diff, std_rel, op_diff = [], [], {"Landmarks2TransformMatrix": [], "TransformTensorBilinear": [],
                                          "TransformLandmarks": []}
    for p in files:
        x = feed(p)
        got = dict(zip(out_names, sess.run(None, {sess.get_inputs()[0].name: x})))
        interp.set_tensor(det[orig_in[0]]["index"], x)
        for t in feeds:
            interp.set_tensor(det[t]["index"], got[tname(t)].reshape(det[t]["shape"]).astype(np.float32))
        interp.invoke()
        for t in orig_out + fetches:
            n = tname(t)
            ref = interp.get_tensor(t)
            mine = got[nhwc_in] if n == "p_re_lu_3" else got[alias.get(n, n)]
            d = float(np.abs(ref - mine.reshape(ref.shape)).max())
            std_diff.append(d)
            std_rel.append(d / max(float(np.abs(ref).max()), 1e-6))
        for _, kind, ins, out, opts in custom:
            n_in = [alias.get(tname(t), tname(t)) for t in ins]
            if kind == "Landmarks2TransformMatrix":
                ref = ref_landmarks_to_transform_matrix(got[n_in[0]], opts)
            elif kind == "TransformTensorBilinear":
                ref = ref_transform_tensor_bilinear(got[nhwc_in], got[n_in[1]], opts["output_height"],
                                                    opts["output_width"])
            else:
                ref = ref_transform_landmarks(got[n_in[0]], got[n_in[1]])
            mine = got[tname(out)]
            op_diff[kind].append(float(np.abs(ref - mine.reshape(ref.shape)).max()))
    note = ("tf.lite runs every standard op (11 custom ops cut out, fed ONNX's values; largest diff relative to "
            f"the tensor's range {max(std_rel):.1g}); each rewritten node vs a numpy reference of MediaPipe's op: "
            + ", ".join(f"{k} x{len(v) // len(files)} max diff {max(v):.2g}" for k, v in op_diff.items()))
    row(name, f"tf.lite (TF {tf.__version__}) minus custom ops + numpy reference ops", len(files), max(std_diff),
        None, note)


# ------------------------------------------ end to end against the MediaPipe runtime
E2E_LONG_EDGE = 1024


def _e2e_rgb(path: Path) -> np.ndarray:
    """A portrait as uint8 RGB, long edge at most E2E_LONG_EDGE (both sides get these pixels)."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    f = E2E_LONG_EDGE / max(bgr.shape[:2])
    if f < 1:
        bgr = cv2.resize(bgr, (round(bgr.shape[1] * f), round(bgr.shape[0] * f)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def write_face_crops(samples: Path, n: int, out: Path) -> None:
    """Square crops (3x each face box our detector finds, black outside the photo) of the
    first n portraits as 384 px PNGs: MediaPipe's graph runs the short-range detector on
    the whole frame, which finds only close-up faces; on these crops both sides see the
    same face large."""
    from maskroom.engine.masks.people import faces as F

    out.mkdir(parents=True, exist_ok=True)
    for p in photos(samples / "portraits", n):
        rgb = _e2e_rgb(p)
        for k, d in enumerate(F.detect_faces(rgb.astype(np.float32) / 255)):
            side = 3 * float(max(d.box[2] - d.box[0], d.box[3] - d.box[1]))
            if side < 3 * 24:
                continue
            m = F.crop_matrix(((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2), side, 0.0, 384)
            crop = cv2.warpAffine(rgb, m.astype(np.float32), (384, 384), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP)
            cv2.imwrite(str(out / f"{p.stem}_{k:02d}.png"), crop[:, :, ::-1])


def dump_mediapipe_mesh(samples: Path, n: int, out: Path) -> None:
    """MediaPipe's own FaceMesh(refine_landmarks=True) landmarks (478 x,y pixels per face)
    of the first n portraits, saved to ``out`` (.npz).  Run in a throw-away venv with
    ``mediapipe==0.10.21`` (+ onnx, onnxruntime for this module's imports)."""
    import mediapipe as mp

    res = {}
    for p in photos(samples, n):
        rgb = _e2e_rgb(p)
        h, w = rgb.shape[:2]
        # A fresh graph per photo, static mode: detection on every image, no tracking.
        with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=30, refine_landmarks=True,
                                             min_detection_confidence=0.5) as fm:
            r = fm.process(rgb)
        # x * w is already our pixel-centre coordinate: MediaPipe's CPU crops map the ROI's
        # corners onto the crop's first/last pixel centres (cv::warpAffine), and the half
        # pixel that loses cancels in its projection back (measured: subtracting 0.5 left
        # every landmark 0.50 px off ours on MediaPipe's own crop).
        faces = [[(lm.x * w, lm.y * h) for lm in f.landmark] for f in (r.multi_face_landmarks or [])]
        res[p.name] = np.array(faces, np.float32).reshape(-1, 478, 2)
        # The same graph's detector (short range) alone: its boxes and 6 keypoints, so our
        # mesh can be run on exactly MediaPipe's crop.
        with mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5) as fd:
            dr = fd.process(rgb)
        dets = []
        for d in dr.detections or []:
            bb = d.location_data.relative_bounding_box
            box = [bb.xmin * w, bb.ymin * h, (bb.xmin + bb.width) * w, (bb.ymin + bb.height) * h]
            kps = [c for k in d.location_data.relative_keypoints for c in (k.x * w, k.y * h)]
            dets.append(box + kps + [d.score[0]])
        res[p.name + ":det"] = np.array(dets, np.float32).reshape(-1, 17)
        print(f"{p.name}: {len(faces)} faces", flush=True)
    np.savez(out, **res)


def compare_mediapipe_mesh(samples: Path, n: int, dump: Path) -> None:
    """Our face pipeline (engine/masks/people/faces.py: detection, crops, two mesh passes) with
    the attention mesh, and with the plain mesh + iris model, against the MediaPipe dump.
    Errors are normalised by the inter-ocular distance (MediaPipe's iris centres)."""
    from maskroom.engine.masks.people import face_topology as topo
    from maskroom.engine.masks.people import faces as F

    ref = np.load(dump)
    groups = {"mesh 468": list(range(468)), "lips 80": list(topo.REFINED_LIPS),
              "eyes+brows 142": list(topo.REFINED_RIGHT_EYE) + list(topo.REFINED_LEFT_EYE)}
    print("| photo | MediaPipe faces | pipeline | matched | " + " | ".join(f"{g} NME" for g in groups)
          + " | iris centre / IOD | iris radius rel. diff |")
    print("|---|---|---|---|" + "---|" * (len(groups) + 2))
    totals: dict[str, dict[str, list[float]]] = {}
    for p in photos(samples, n):
        mp_faces = ref[p.name]
        img = _e2e_rgb(p).astype(np.float32) / 255
        dets = F.detect_faces(img)
        # "1 pass": MediaPipe's static-image crop rule (detection box x1.5, eyes level) on our
        # detection; "MediaPipe's crop": on MediaPipe's own detection, so what differs is
        # the converted model and the resampling; the others are our pipeline as it runs.
        mp_dets = [F.Detection(r[:4], r[4:16].reshape(6, 2), float(r[16])) for r in ref.get(p.name + ":det", [])]
        for label, attention, one_pass in (("attention, MediaPipe's crop", True, True),
                                           ("attention, 1 pass", True, True), ("attention", True, False),
                                           ("plain + iris model", False, False)):
            ours = []
            for d in (mp_dets if "MediaPipe's" in label else dets):
                size = float(max(d.box[2] - d.box[0], d.box[3] - d.box[1]))
                refine = size >= F.MIN_REFINE_FACE and not one_pass
                lm, score, iris = F.face_landmarks(img, d, refine_pass=refine, attention=attention)
                if score < F.FACE_PRESENCE:
                    continue
                if iris is None:
                    irs = F.iris_landmarks(img, lm)
                    centres = np.array([irs[k].centre for k in ("right", "left")]) if len(irs) == 2 else None
                    radii = np.array([irs[k].radius for k in ("right", "left")]) if len(irs) == 2 else None
                else:
                    centres = iris[:, 0]
                    radii = np.mean(np.linalg.norm(iris[:, 1:] - iris[:, :1], axis=-1), axis=1)
                ours.append((lm[:, :2], centres, radii))
            errs = {g: [] for g in list(groups) + ["iris centre", "iris radius"]}
            matched = 0
            for mf in mp_faces:
                iod = float(np.linalg.norm(mf[468] - mf[473]))
                if not ours or iod < 1:
                    continue
                best = min(ours, key=lambda o: float(np.linalg.norm(o[0].mean(0) - mf[:468].mean(0))))
                if np.linalg.norm(best[0].mean(0) - mf[:468].mean(0)) > iod:
                    continue  # a face only one side found
                matched += 1
                for g, idx in groups.items():
                    errs[g].append(float(np.linalg.norm(best[0][idx] - mf[idx], axis=1).mean() / iod))
                if best[1] is not None:
                    mp_c = np.stack([mf[468], mf[473]])
                    mp_r = np.array([np.linalg.norm(mf[469:473] - mf[468], axis=1).mean(),
                                     np.linalg.norm(mf[474:478] - mf[473], axis=1).mean()])
                    errs["iris centre"].append(float(np.linalg.norm(best[1] - mp_c, axis=1).mean() / iod))
                    errs["iris radius"].append(float(np.mean(np.abs(best[2] - mp_r) / mp_r)))
            t = totals.setdefault(label, {k: [] for k in errs})
            for k, v in errs.items():
                t[k].extend(v)
            cells = [f"{np.mean(v):.4f}" if v else "—" for v in errs.values()]
            print(f"| {p.name} | {len(mp_faces)} | {label} | {matched} | " + " | ".join(cells) + " |", flush=True)
    for label, t in totals.items():
        cells = [f"{np.mean(v):.4f} (max {np.max(v):.4f})" if v else "—" for v in t.values()]
        print(f"| **all** | | {label} | {len(t['mesh 468'])} | " + " | ".join(cells) + " |")


def main(argv: list[str]) -> None:
    what = argv[0]
    upstream = Path(argv[argv.index("--upstream") + 1]) if "--upstream" in argv else HERE.parent.parent / "shared" / "models-upstream"
    samples = Path(argv[argv.index("--samples") + 1]) if "--samples" in argv else HERE.parent.parent / "shared" / "samples"
    n = int(argv[argv.index("-n") + 1]) if "-n" in argv else 10
    print("| model | checked against | photos | max abs diff | IoU@0.5 mean (min) | note |")
    print("|---|---|---|---|---|---|")
    if what == "sky":
        check_sky(upstream, samples, n)
    elif what == "mediapipe-crops":  # .venv: face crops of the portraits (both sides then run on them)
        write_face_crops(samples, n, Path(argv[argv.index("--out") + 1]))
    elif what == "mediapipe-dump":  # in a venv with mediapipe==0.10.21
        images = Path(argv[argv.index("--images") + 1]) if "--images" in argv else samples / "portraits"
        dump_mediapipe_mesh(images, 10_000 if "--images" in argv else n, Path(argv[argv.index("--out") + 1]))
    elif what == "mediapipe-e2e":  # .venv: our pipeline against that dump
        images = Path(argv[argv.index("--images") + 1]) if "--images" in argv else samples / "portraits"
        compare_mediapipe_mesh(images, 10_000 if "--images" in argv else n, Path(argv[argv.index("--against") + 1]))
    elif what == "mediapipe":
        check_mediapipe(upstream, samples, n, argv[argv.index("--only") + 1] if "--only" in argv else None)
    else:
        raise SystemExit("usage: check_conversion.py sky|mediapipe [--upstream DIR] [--samples DIR] [-n N] [--only NAME]"
                         " | mediapipe-dump --out F.npz | mediapipe-e2e --against F.npz")


if __name__ == "__main__":
    main(sys.argv[1:])
