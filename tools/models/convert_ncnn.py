"""Rewrite an ncnn model (.param text + .bin weights) as an ONNX graph.

Development tool: ``python tools/models/convert_ncnn.py MODEL.param MODEL.bin OUT.onnx``.

ncnn blobs are CHW without a batch axis; the ONNX graph uses NCHW with N=1, so
channel axis 0 in ncnn is axis 1 here.  Each ncnn layer maps to one or a few
standard ONNX ops.  Weights of Convolution layers are stored behind a 4-byte tag
that says their storage type (fp16 / fp32); biases are raw fp32.
"""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FP16_TAG = 0x01306B47
INT8_TAG = 0x000D4B38
RAW_TAG = 0x0002C056


class NcnnError(ValueError):
    pass


def parse_param(text: str) -> list[dict]:
    lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    if lines[0] != ["7767517"]:
        raise NcnnError("not an ncnn param file (magic 7767517 missing)")
    layers = []
    for parts in lines[2:]:
        kind, name, nb, nt = parts[0], parts[1], int(parts[2]), int(parts[3])
        bottoms = parts[4:4 + nb]
        tops = parts[4 + nb:4 + nb + nt]
        params: dict[int, object] = {}
        for kv in parts[4 + nb + nt:]:
            k, v = kv.split("=", 1)
            k = int(k)
            if k <= -23300:  # array parameter: -23300-id=count,v1,v2...
                vals = v.split(",")[1:]
                params[-(k + 23300)] = [float(x) if "." in x or "e" in x else int(x) for x in vals]
            else:
                params[k] = float(v) if ("." in v or "e" in v) else int(v)
        layers.append({"type": kind, "name": name, "bottoms": bottoms, "tops": tops, "params": params})
    return layers


class WeightReader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise NcnnError("weight file ended early (does the .bin belong to this .param?)")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def tagged(self, count: int) -> np.ndarray:
        """A weight blob with its storage tag (ncnn ModelBin type 0)."""
        (tag,) = struct.unpack("<I", self._take(4))
        if tag == FP16_TAG:
            arr = np.frombuffer(self._take(count * 2), np.float16).astype(np.float32)
            pad = (4 - (count * 2) % 4) % 4
            self._take(pad)
            return arr
        if tag == 0 or tag == RAW_TAG:
            return np.frombuffer(self._take(count * 4), np.float32).copy()
        if tag == INT8_TAG:
            raise NcnnError("int8 weights are not supported")
        raise NcnnError(f"unknown weight tag 0x{tag:08x} at byte {self.pos - 4}")

    def raw(self, count: int) -> np.ndarray:
        """A plain fp32 blob (ModelBin type 1: biases, norms, constants)."""
        return np.frombuffer(self._take(count * 4), np.float32).copy()


class Builder:
    def __init__(self):
        self.nodes: list = []
        self.inits: list = []
        self.n = 0

    def const(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs) -> str:
        self.n += 1
        out = output or f"_t{self.n}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{self.n}", **attrs))
        return out


def _activation(b: Builder, x: str, kind: int, params, out: str) -> str:
    if kind == 0:
        return b.node("Identity", [x], out)
    if kind == 1:
        return b.node("Relu", [x], out)
    if kind == 2:
        return b.node("LeakyRelu", [x], out, alpha=float(params[0]))
    if kind == 3:
        lo = b.const(f"{out}_lo", np.array(params[0], np.float32))
        hi = b.const(f"{out}_hi", np.array(params[1], np.float32))
        return b.node("Clip", [x, lo, hi], out)
    if kind == 4:
        return b.node("Sigmoid", [x], out)
    raise NcnnError(f"activation type {kind} not supported")


def convert(param_path: Path, bin_path: Path, input_shape: tuple[int, int, int]) -> onnx.ModelProto:
    layers = parse_param(Path(param_path).read_text())
    w = WeightReader(Path(bin_path).read_bytes())
    b = Builder()
    alias: dict[str, str] = {}
    shapes: dict[str, tuple] = {}
    graph_inputs, consumed = [], set()

    def src(name: str) -> str:
        return alias.get(name, name)

    for L in layers:
        t, p, bots, tops = L["type"], L["params"], [src(x) for x in L["bottoms"]], L["tops"]
        consumed.update(L["bottoms"])
        if t == "Input":
            c, h, wd = input_shape
            graph_inputs.append(helper.make_tensor_value_info(tops[0], TensorProto.FLOAT, [1, c, h, wd]))
        elif t == "Split":
            for top in tops:
                alias[top] = bots[0]
        elif t in ("Convolution", "ConvolutionDepthWise"):
            out_c = int(p[0])
            kw = int(p.get(1, 1))
            kh = int(p.get(11, kw))
            dw = int(p.get(2, 1))
            dh = int(p.get(12, dw))
            sw = int(p.get(3, 1))
            sh = int(p.get(13, sw))
            pl = int(p.get(4, 0))
            pt = int(p.get(14, pl))
            pr = int(p.get(15, pl))
            pb = int(p.get(16, pt))
            if pl in (-233, -234):
                raise NcnnError(f"{L['name']}: SAME padding not supported")
            group = int(p.get(7, 1)) if t == "ConvolutionDepthWise" else 1
            wsize = int(p[6])
            weight = w.tagged(wsize)
            in_c = wsize // (out_c * kh * kw) * group
            weight = weight.reshape(out_c, in_c // group, kh, kw)
            inputs = [bots[0], b.const(f"{L['name']}_w", weight)]
            if int(p.get(5, 0)):
                inputs.append(b.const(f"{L['name']}_b", w.raw(out_c)))
            act = int(p.get(9, 0))
            conv_out = tops[0] if act == 0 else f"{tops[0]}_preact"
            b.node("Conv", inputs, conv_out, kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw],
                   pads=[pt, pl, pb, pr], group=group)
            if act:
                _activation(b, conv_out, act, p.get(10, []), tops[0])
        elif t == "Pooling":
            kind = int(p.get(0, 0))
            if int(p.get(4, 0)):  # global pooling
                b.node("GlobalMaxPool" if kind == 0 else "GlobalAveragePool", [bots[0]], tops[0])
                continue
            kw = int(p.get(1, 1))
            kh = int(p.get(11, kw))
            sw = int(p.get(2, 1))
            sh = int(p.get(12, sw))
            pad = int(p.get(3, 0))
            pad_mode = int(p.get(5, 0))
            op = "MaxPool" if kind == 0 else "AveragePool"
            attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[pad] * 4, ceil_mode=1 if pad_mode == 0 else 0)
            if kind == 1:
                attrs["count_include_pad"] = int(p.get(6, 0))
            b.node(op, [bots[0]], tops[0], **attrs)
        elif t == "Interp":
            mode = {1: "nearest", 2: "linear", 3: "cubic"}[int(p.get(0, 1))]
            align = int(p.get(6, 0))
            ctm = "align_corners" if align else ("asymmetric" if mode == "nearest" else "half_pixel")
            roi = b.const(f"{L['name']}_roi", np.zeros(0, np.float32))
            if len(bots) == 2:  # size taken from a reference blob
                shape = b.node("Shape", [bots[1]])
                hw = b.node("Slice", [shape, b.const(f"{L['name']}_s", np.array([2], np.int64)),
                                      b.const(f"{L['name']}_e", np.array([4], np.int64))])
                nc = b.node("Slice", [b.node("Shape", [bots[0]]), b.const(f"{L['name']}_s0", np.array([0], np.int64)),
                                      b.const(f"{L['name']}_e0", np.array([2], np.int64))])
                sizes = b.node("Concat", [nc, hw], axis=0)
                b.node("Resize", [bots[0], roi, "", sizes], tops[0], mode=mode, coordinate_transformation_mode=ctm,
                       nearest_mode="floor")
            elif int(p.get(3, 0)):
                oh, ow = int(p[3]), int(p[4])
                nc = b.node("Slice", [b.node("Shape", [bots[0]]), b.const(f"{L['name']}_s0", np.array([0], np.int64)),
                                      b.const(f"{L['name']}_e0", np.array([2], np.int64))])
                sizes = b.node("Concat", [nc, b.const(f"{L['name']}_hw", np.array([oh, ow], np.int64))], axis=0)
                b.node("Resize", [bots[0], roi, "", sizes], tops[0], mode=mode, coordinate_transformation_mode=ctm,
                       nearest_mode="floor")
            else:
                scales = b.const(f"{L['name']}_sc", np.array([1, 1, float(p.get(1, 1)), float(p.get(2, 1))], np.float32))
                b.node("Resize", [bots[0], roi, scales], tops[0], mode=mode, coordinate_transformation_mode=ctm,
                       nearest_mode="floor")
        elif t == "Concat":
            axis = int(p.get(0, 0))
            b.node("Concat", bots, tops[0], axis=axis + 1)
        elif t == "BinaryOp":
            op = {0: "Add", 1: "Sub", 2: "Mul", 3: "Div", 4: "Max", 5: "Min", 6: "Pow"}.get(int(p.get(0, 0)))
            if op is None:
                raise NcnnError(f"{L['name']}: BinaryOp type {p.get(0)} not supported")
            if int(p.get(1, 0)):
                scalar = b.const(f"{L['name']}_k", np.array(float(p.get(2, 0.0)), np.float32))
                b.node(op, [bots[0], scalar], tops[0])
            else:
                b.node(op, bots[:2], tops[0])
        elif t == "Sigmoid":
            b.node("Sigmoid", bots, tops[0])
        elif t == "ReLU":
            slope = float(p.get(0, 0.0))
            if slope:
                b.node("LeakyRelu", bots, tops[0], alpha=slope)
            else:
                b.node("Relu", bots, tops[0])
        elif t == "GELU":
            x = bots[0]
            # 0.5 * x * (1 + erf(x / sqrt(2)))
            k = b.const(f"{L['name']}_k", np.array(1 / np.sqrt(2), np.float32))
            one = b.const(f"{L['name']}_1", np.array(1.0, np.float32))
            half = b.const(f"{L['name']}_h", np.array(0.5, np.float32))
            e = b.node("Erf", [b.node("Mul", [x, k])])
            b.node("Mul", [b.node("Mul", [x, half]), b.node("Add", [e, one])], tops[0])
        elif t == "MemoryData":
            wd, ht, ch = int(p.get(0, 0)), int(p.get(1, 0)), int(p.get(2, 0))
            dims = [d for d in (ch, ht, wd) if d]
            data = w.raw(int(np.prod(dims))).reshape(dims)
            # As a 3-D ncnn blob (c,h,w) -> NCHW; lower ranks broadcast from the right.
            b.const(tops[0], data.reshape([1] * (4 - data.ndim) + list(data.shape)))
        elif t == "Permute":
            # ncnn names the output dims (w,h,c) by the input dim each comes from.
            perm = {0: [0, 1, 2], 1: [0, 2, 1], 2: [1, 0, 2], 3: [1, 2, 0], 4: [2, 0, 1], 5: [2, 1, 0]}
            order = perm[int(p.get(0, 0))]
            b.node("Transpose", [bots[0]], tops[0], perm=[0] + [i + 1 for i in order])
        elif t == "LayerNorm":
            size = int(p[0])
            eps = float(p.get(1, 1e-5))
            if int(p.get(2, 1)):
                gamma, beta = w.raw(size), w.raw(size)
            else:
                gamma, beta = np.ones(size, np.float32), np.zeros(size, np.float32)
            b.node("LayerNormalization", [bots[0], b.const(f"{L['name']}_g", gamma), b.const(f"{L['name']}_b", beta)],
                   tops[0], axis=-1, epsilon=eps)
        elif t == "GroupNorm":
            groups, channels, eps = int(p[0]), int(p[1]), float(p.get(2, 1e-5))
            gamma = w.raw(channels) if int(p.get(3, 1)) else np.ones(channels, np.float32)
            beta = w.raw(channels) if int(p.get(3, 1)) else np.zeros(channels, np.float32)
            # GroupNorm = InstanceNorm over (groups, rest), then the per-channel affine.
            shape_in = b.node("Shape", [bots[0]])
            grouped = b.node("Reshape", [bots[0], b.const(f"{L['name']}_gs", np.array([1, groups, -1], np.int64))])
            normed = b.node("InstanceNormalization", [grouped, b.const(f"{L['name']}_one", np.ones(groups, np.float32)),
                                                      b.const(f"{L['name']}_zero", np.zeros(groups, np.float32))],
                            epsilon=eps)
            back = b.node("Reshape", [normed, shape_in])
            scaled = b.node("Mul", [back, b.const(f"{L['name']}_g", gamma.reshape(1, channels, 1, 1))])
            b.node("Add", [scaled, b.const(f"{L['name']}_b", beta.reshape(1, channels, 1, 1))], tops[0])
        elif t == "Slice":
            slices = p.get(0, [])
            axis = int(p.get(1, 0)) + 1
            if all(x == -233 for x in slices):  # equal parts: opset-17 Split infers them from the outputs
                b.nodes.append(helper.make_node("Split", [bots[0]], list(tops), name=f"Split_{L['name']}", axis=axis))
            else:
                sizes = b.const(f"{L['name']}_sz", np.array(slices, np.int64))
                b.nodes.append(helper.make_node("Split", [bots[0], sizes], list(tops), name=f"Split_{L['name']}",
                                                axis=axis))
        else:
            raise NcnnError(f"layer type {t} ({L['name']}) not supported by this converter")
        for top in tops:
            shapes.setdefault(top, None)

    produced = [t for L in layers for t in L["tops"]]
    outputs = [t for t in produced if t not in consumed and t not in alias]
    graph = helper.make_graph(
        b.nodes, Path(param_path).stem, graph_inputs,
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, [1, None, None, None]) for o in outputs], b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="maskroom-convert-ncnn")
    model.ir_version = 8
    onnx.checker.check_model(model)
    if w.pos != len(w.data):
        raise NcnnError(f"{len(w.data) - w.pos} weight bytes left unread: the layer mapping is off")
    return model


def prune_outputs(model: onnx.ModelProto, keep: list[str]) -> onnx.ModelProto:
    """Keep only the named graph outputs (ncnn side outputs become dead ends)."""
    from onnx import utils

    inputs = [i.name for i in model.graph.input]
    extractor = utils.Extractor(model)
    return extractor.extract_model(inputs, keep)


def main(argv: list[str]) -> None:
    param, binf, out = argv[:3]
    shape = tuple(int(x) for x in (argv[3] if len(argv) > 3 else "3,384,384").split(","))
    model = convert(Path(param), Path(binf), shape)
    onnx.save(model, out)
    print(f"wrote {out}: outputs {[o.name for o in model.graph.output]}")


if __name__ == "__main__":
    main(sys.argv[1:])
