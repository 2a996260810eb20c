"""Derive the int8 sky and salient models from the shipped fp32 U²-Netp files (development tool).

    python tools/models/quantize.py [--samples ../shared/samples] [--check]
    python tools/models/quantize.py --model salient [--check]   # salient_u2netp_int8.onnx
    python tools/models/convert.py sky-int8 --samples ../shared/samples   # same, then rewrites the manifest

U²-Netp at its fixed 384x384 input costs 0.7-0.8 CPU s in fp32, most of the sky
mask's time.  Static int8 quantisation (onnxruntime.quantization, QDQ format,
per-channel int8 weights, uint8 activations, MinMax calibration) halves that
(measured table in models/CONVERSION.md and docs/masks.md).  Dynamic
quantisation was measured too and is 6x *slower* (ConvInteger has no fast CPU
kernel); QOperator format is about as fast as QDQ and agrees slightly less.

Kept in float in the sky file: the fusing end of the side-output head (the concat of
the six side outputs, the fusing 1x1 conv, the sigmoid; ``fusing_head``).  Quantised,
the sigmoid's output lands on 36 levels and a sure sky came out as 0.686 instead of
1.0, which moves the fusion's 0.5 threshold.  The six 1-channel side convs and their
resizes were float too until u2netp-sky-int8-4: the full-size one ran as a float conv
on a dequantised 64-channel tensor, 4-7 % of the model's time; quantised, the file is
6.7 % cheaper (0.305 / 0.327 CPU s at 384x256) with the same sky mask on the pairs
(docs/masks.md).  The salient file keeps its whole head float (``head_nodes``).

Weights on 7 bits (``reduce_range``): onnxruntime's u8s8 convolution on an x86 CPU
without VNNI (AVX2 only, e.g. the AMD EPYC this project was later measured on) sums
pairs of u8*s8 products in int16 and saturates; with 8-bit weights the file agreed
with fp32 at IoU@0.5 0.785 on ADE20K there (0.999 on a VNNI CPU) and the sky mask's
ADE20K IoU fell 0.863 -> 0.836.  With 7-bit weights: 0.994, same speed (docs/masks.md).

Calibration: the photos in ``--samples`` (the project's sample photos; never the
pairs-dev measurement data), per folder sorted by name, every other one
(0, 2, 4, ...), each prepared exactly as engine/masks/sky.py prepares it.  The
rest are held out for ``--check`` (IoU@0.5 and max abs diff against fp32).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[2] / "models"  # the committed ONNX files, manifest, licences
SOURCE = HERE / "sky_u2netp.onnx"
TARGET = HERE / "sky_u2netp_int8.onnx"
FOLDERS = ("sky", "animals", "objects", "portraits")
PHOTO_EXT = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"}
HEAD_CONCAT = "1957"  # the concat of the six side outputs, input of the fusing conv
SALIENT_SOURCE = HERE / "salient_u2netp.onnx"
SALIENT_TARGET = HERE / "salient_u2netp_int8.onnx"
# Kept float in the salient model besides its head: the last conv (+ relu, + the residual add)
# of the decoder stages 2d and 1d.  Quantised, their outputs lost all signal (onnxruntime's
# qdq_loss_debug, float vs int8 activations on a sample photo: SQNR -12.9 dB after Conv_787,
# 12.6 dB after Conv_942, 25-45 dB everywhere else), and the 320 px maps agreed with fp32 at
# IoU 0.25 on the held-out photos; with them float, 0.93 (docs/masks.md, "int8 salient").
SALIENT_FLOAT = ("Conv_787", "Relu_788", "Add_789", "Conv_942", "Relu_943", "Add_944")


def photos(samples: Path) -> tuple[list[Path], list[Path]]:
    """(calibration, held-out) photos: per folder, even and odd positions by name."""
    calib, held = [], []
    for folder in FOLDERS:
        files = sorted(p for p in (samples / folder).iterdir() if p.suffix.lower() in PHOTO_EXT)
        calib += files[0::2]
        held += files[1::2]
    return calib, held


def model_input(path: Path) -> np.ndarray:
    from maskroom.engine.masks import sky
    from maskroom.engine.masks.overlay import load_rgb

    return sky.model_inputs(load_rgb(path))[0][None].astype(np.float32)


def salient_input(path: Path) -> np.ndarray:
    """The salient model's input for a photo, at the aspect-kept size the subject kind uses."""
    from maskroom.engine.masks import salient
    from maskroom.engine.masks.overlay import load_rgb

    return salient.model_input(load_rgb(path))


def free_size(model):
    """``model`` (the fp32 sky U²-Netp, modified in place) taking any input height and width.

    The ncnn file fixes every upsampling's output size (384x384 and its halvings); U²-Net
    itself upsamples each decoder tensor to the size of the tensor it is concatenated
    with (``_upsample_like``), and every resize here feeds such a concat.  So each resize
    takes its height and width from its concat partner, read from the tensors at run
    time: the same numbers at 384x384 (2.9e-7), and any input size runs (the pooling's
    ceil mode then matches upstream's)."""
    from onnx import helper, numpy_helper

    g = model.graph
    users: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    for name, v in (("free_0", 0), ("free_2", 2), ("free_4", 4)):
        g.initializer.append(numpy_helper.from_array(np.array([v], np.int64), name))
    nodes = []
    for n in g.node:
        if n.op_type == "Resize" and len(n.input) == 4 and n.input[3]:
            (cat,) = users[n.output[0]]
            if cat.op_type != "Concat":
                raise ValueError(f"{n.name}: resize not feeding a concat; cannot free its size")
            partner = next(i for i in cat.input if i != n.output[0])
            k = f"{n.name}_free"
            nodes += [
                helper.make_node("Shape", [n.input[0]], [f"{k}_own"], name=f"{k}_own"),
                helper.make_node("Slice", [f"{k}_own", "free_0", "free_2"], [f"{k}_nc"], name=f"{k}_nc"),
                helper.make_node("Shape", [partner], [f"{k}_ref"], name=f"{k}_ref"),
                helper.make_node("Slice", [f"{k}_ref", "free_2", "free_4"], [f"{k}_hw"], name=f"{k}_hw"),
                helper.make_node("Concat", [f"{k}_nc", f"{k}_hw"], [f"{k}_sizes"], name=f"{k}_sizes", axis=0),
            ]
            n.input[3] = f"{k}_sizes"
        nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    kept = [t for t in g.initializer if t.name in used]  # the fixed sizes go
    del g.initializer[:]
    g.initializer.extend(kept)
    del g.value_info[:]  # inferred at 384x384
    for value in list(g.input) + list(g.output):
        dims = value.type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "height", "width"
    return model


def sky_source(tmp: Path) -> Path:
    """The fp32 sky file with a free input size (``free_size``), written to ``tmp``."""
    import onnx

    model = free_size(onnx.load(str(SOURCE)))
    onnx.checker.check_model(model)
    out = tmp / "sky_u2netp_free.onnx"
    onnx.save(model, str(out))
    return out


def salient_source(tmp: Path) -> Path:
    """The fp32 salient file at opset 13 (per-channel QDQ needs it) with a free input height
    and width (its resizes take their sizes from the tensors, so any multiple of 32 runs)."""
    import onnx
    from onnx import version_converter

    model = onnx.load(str(SALIENT_SOURCE))
    # Sizes freed first: converted with its fixed 320x320, the converter bakes some
    # resize sizes in (a 224x320 input then fails at the first concat).
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "height", "width"
    model = version_converter.convert_version(model, 13)
    out = tmp / "salient_dynamic.onnx"
    onnx.save(model, str(out))
    return out


def salient_head(model) -> list[str]:
    """The side-output head of the salient file (its fusing conv's concat found from the output)."""
    global HEAD_CONCAT
    made_by = {o: n for n in model.graph.node for o in n.output}
    fuse = made_by[made_by[model.graph.output[0].name].input[0]]  # sigmoid <- fusing conv
    shipped, HEAD_CONCAT = HEAD_CONCAT, made_by[fuse.input[0]].output[0]
    try:
        return head_nodes(model)
    finally:
        HEAD_CONCAT = shipped


def fusing_head(model) -> list[str]:
    """Names of the sky file's sigmoid, the fusing conv before it and the concat of the
    side outputs it reads (kept in float), found from the graph's output."""
    made_by = {o: n for n in model.graph.node for o in n.output}
    sigmoid = made_by[model.graph.output[0].name]
    fuse = made_by[sigmoid.input[0]]
    return [made_by[fuse.input[0]].name, fuse.name, sigmoid.name]


def head_nodes(model) -> list[str]:
    """Names of the side-output head's nodes (kept in float)."""
    weights = {t.name: t.dims for t in model.graph.initializer}
    side = {n.output[0] for n in model.graph.node if n.op_type == "Conv" and weights[n.input[1]][0] == 1}
    names = []
    for n in model.graph.node:
        if (n.output[0] in side or (n.op_type == "Resize" and n.input[0] in side) or n.op_type == "Sigmoid"
                or (n.op_type == "Concat" and n.output[0] == HEAD_CONCAT)):
            names.append(n.name)
            side.add(n.output[0])
    return names


def quantize(samples: Path, source: Path | None = None, target: Path = TARGET, prepare=model_input,
             keep_float=None) -> Path:
    """Static int8 QDQ file ``target`` from ``source`` (default: the fp32 sky file with its
    input size freed, ``sky_source``); ``prepare`` turns a photo into its input,
    ``keep_float`` lists the nodes left in float (default: the sky file's ``fusing_head``)."""
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    calib, _ = photos(samples)
    if not calib:
        raise SystemExit(f"{samples}: no sample photos in {', '.join(FOLDERS)}")

    class Photos(CalibrationDataReader):
        def __init__(self):
            self._it = iter(calib)

        def get_next(self):
            path = next(self._it, None)
            return None if path is None else {"input.1": prepare(path)}

    with tempfile.TemporaryDirectory() as tmp:
        source = sky_source(Path(tmp)) if source is None else source
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(source), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(target), Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, reduce_range=True,
                        calibrate_method=CalibrationMethod.MinMax,
                        nodes_to_exclude=keep_float if keep_float is not None else fusing_head(onnx.load(str(source))))
        print(f"{target.name}: written from {source.name}, calibrated on {len(calib)} photos")
    return target


def quantize_salient(samples: Path) -> Path:
    import onnx

    with tempfile.TemporaryDirectory() as tmp:
        source = salient_source(Path(tmp))
        keep = salient_head(onnx.load(str(source))) + list(SALIENT_FLOAT)
        return quantize(samples, source, SALIENT_TARGET, prepare=salient_input, keep_float=keep)


def check_salient(samples: Path) -> None:
    """IoU of the normalised maps above the subject's threshold, int8 against fp32, held-out photos."""
    import onnxruntime as ort

    from maskroom.engine.masks import salient

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = ort.InferenceSession(str(salient_source(Path(tmp))), opts, providers=["CPUExecutionProvider"])
    int8 = ort.InferenceSession(str(SALIENT_TARGET), opts, providers=["CPUExecutionProvider"])
    _, held = photos(samples)
    ious, diffs = [], []
    for path in held:
        x = {"input.1": salient_input(path)}
        a = salient.normalise(fp32.run(None, x)[0].squeeze())
        b = salient.normalise(int8.run(None, x)[0].squeeze())
        ious.append(((a > salient.THRESHOLD) & (b > salient.THRESHOLD)).sum()
                    / max(1, ((a > salient.THRESHOLD) | (b > salient.THRESHOLD)).sum()))
        diffs.append(float(np.abs(a - b).max()))
    print(f"held-out photos {len(held)}: IoU@{salient.THRESHOLD} vs fp32 mean {np.mean(ious):.4f} "
          f"min {np.min(ious):.4f}; max abs diff median {np.median(diffs):.3f} max {np.max(diffs):.3f}")


def check(samples: Path, target: Path = TARGET) -> None:
    """IoU@0.5 and max abs diff of the int8 model against fp32 (its size freed the same way)
    on the held-out photos, each at the input size the sky mask gives it."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = ort.InferenceSession(str(sky_source(Path(tmp))), opts, providers=["CPUExecutionProvider"])
    int8 = ort.InferenceSession(str(target), opts, providers=["CPUExecutionProvider"])
    _, held = photos(samples)
    ious, diffs = [], []
    for path in held:
        x = {"input.1": model_input(path)}
        a, b = fp32.run(None, x)[0].squeeze(), int8.run(None, x)[0].squeeze()
        union = ((a > 0.5) | (b > 0.5)).sum()
        # Photos where neither says sky anywhere agree fully; tiny skies make IoU jumpy,
        # so they are counted only where either model has >= 0.5 % sky.
        if union >= 0.005 * a.size:
            ious.append(((a > 0.5) & (b > 0.5)).sum() / union)
        diffs.append(float(np.abs(a - b).max()))
    print(f"held-out photos {len(held)}: IoU@0.5 vs fp32 mean {np.mean(ious):.4f} min {np.min(ious):.4f} "
          f"(over {len(ious)} with sky); max abs diff median {np.median(diffs):.3f} max {np.max(diffs):.3f}")


def main(argv: list[str]) -> None:
    import argparse

    # argparse, not a hand scan of argv: `--help` (or a typo) must not rewrite the model file.
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, default=HERE.parent.parent / "shared" / "samples",
                    help="calibration photos (the project's samples; never the pairs-dev data)")
    ap.add_argument("--check", action="store_true", help="then compare with fp32 on the held-out photos")
    ap.add_argument("--model", choices=("sky", "salient"), default="sky")
    args = ap.parse_args(argv)
    if args.model == "salient":
        quantize_salient(args.samples)
        if args.check:
            check_salient(args.samples)
        return
    quantize(args.samples)
    if args.check:
        check(args.samples)


if __name__ == "__main__":
    main(sys.argv[1:])
