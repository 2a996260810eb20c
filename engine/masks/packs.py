"""Optional model packs: larger public models a user installs later.

The manifest's ``packs`` section names each pack, its adapter, file(s), official address
and sha256 where known.  ``install`` copies a file the user downloaded into the
user model folder (atomically) and records it in the user manifest, so the
model store finds it, verifies it on every first load and gives it a version for
the mask caches.  Nothing here downloads anything.

Adapters turn a photo into the pack's input and its raw output into a matte:
``SalientObjectPack``, ``PromptablePack`` (SAM-style encoder/decoder with box or
point prompts) and ``FaceParsingPack`` (19-class label map).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from maskroom.core.files import atomic_path, atomic_write_text
from maskroom.engine.masks import model_store
from maskroom.engine.masks.model_store import ModelError

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
SAM_MEAN = np.array([123.675, 116.28, 103.53], np.float32)
SAM_STD = np.array([58.395, 57.12, 57.375], np.float32)

# CelebAMask-HQ label order used by BiSeNet face parsing.
FACE_PARSING_CLASSES = ("background", "skin", "l_brow", "r_brow", "l_eye", "r_eye", "eye_g", "l_ear", "r_ear",
                        "ear_r", "nose", "mouth", "u_lip", "l_lip", "neck", "neck_l", "cloth", "hair", "hat")


def catalogue() -> dict:
    """The installable packs: the ``packs`` section of the packaged manifest.json
    (models/convert.py copies it there from models/packs.json)."""
    return json.loads((model_store.package_dir() / "manifest.json").read_text()).get("packs", {})


def _user_manifest_path() -> Path:
    return model_store.user_dir() / "manifest.json"


def installed() -> dict:
    p = _user_manifest_path()
    return json.loads(p.read_text()).get("models", {}) if p.exists() else {}


def _model_names(pack: str, spec: dict) -> dict[str, str]:
    """Manifest name of each file of a pack: 'salient_object' or 'promptable.encoder'."""
    if "files" in spec:
        return {part: f"{pack}.{part}" for part in spec["files"]}
    return {"": pack}


def install(pack: str, sources: list[Path]) -> list[str]:
    """Install a pack from files the user has; returns the manifest names installed."""
    packs = catalogue()
    if pack not in packs:
        raise ModelError(f"unknown model pack {pack!r} (known: {', '.join(packs)})")
    spec = packs[pack]
    names = _model_names(pack, spec)
    files = spec.get("files") or {"": spec["file"]}
    if len(sources) != len(files):
        raise ModelError(f"pack {pack!r} needs {len(files)} file(s) ({', '.join(files.values())}), got {len(sources)}")
    dest_dir = model_store.user_dir()
    dest_dir.mkdir(parents=True, exist_ok=True)
    doc = {"models": installed()}
    done = []
    # Every file is checked before any is copied: a wrong decoder must not leave the
    # pack's encoder installed on its own.
    digests = {part: _check_source(pack, spec, part, Path(src)) for part, src in zip(files, sources)}
    for (part, filename), src in zip(files.items(), sources):
        src = Path(src)
        digest = digests[part]
        with atomic_path(dest_dir / filename) as tmp:
            shutil.copyfile(src, tmp)
        name = names[part]
        doc["models"][name] = {"file": filename, "sha256": digest, "version": f"{spec['version']}+{digest[:8]}",
                               "pack": pack, "adapter": spec["adapter"], "licence": spec.get("licence")}
        done.append(name)
    atomic_write_text(_user_manifest_path(), json.dumps(doc, indent=2) + "\n")
    model_store.clear_sessions()
    return done


def _check_source(pack: str, spec: dict, part: str, src: Path) -> str:
    """Refuse a file that is not this pack's model (pinned digests, else the ONNX signature
    the adapter needs); returns its sha256."""
    if not src.is_file():
        raise ModelError(f"{src}: no such file")
    digest = model_store.sha256_file(src)
    expected = _for_part(spec.get("sha256"), part)
    if expected and digest != expected:
        raise ModelError(f"{src}: sha256 {digest[:12]}… does not match pack {pack!r} ({expected[:12]}…)")
    # Where only the publisher's md5 and size are known (rembg pins those), check them instead.
    size = _for_part(spec.get("bytes"), part)
    if size and src.stat().st_size != size:
        raise ModelError(f"{src}: {src.stat().st_size} bytes, pack {pack!r} is {size} bytes; wrong or partial download")
    md5 = _for_part(spec.get("md5"), part)
    if md5 and model_store.file_digest(src, "md5") != md5:
        raise ModelError(f"{src}: md5 does not match pack {pack!r} ({md5}); wrong or corrupt download")
    sess = _check_loads(src)
    problem = _signature_problem(spec["adapter"], part, sess)
    if problem:
        what = f"the {part} of pack {pack!r}" if part else f"pack {pack!r}"
        raise ModelError(f"{src}: not {what}: {problem}")
    return digest


def _for_part(value, part: str):
    """A pack field that is one value, or one value per file of a multi-file pack."""
    return value.get(part) if isinstance(value, dict) else value


def _check_loads(path: Path):
    import onnxruntime as ort  # heavy; only an install needs it here

    try:
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"{path}: not a loadable ONNX model ({exc})") from None


# What each adapter feeds and reads (see the classes below): checked at install time,
# so a wrong file is refused there with one line instead of failing at mask time with
# "Required inputs ... are missing".  Pinned sha256s are checked too where the
# catalogue has them; for packs published without one this is the check.
SAM_DECODER_FEED = ("image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input",
                    "orig_im_size")
SAM_DECODER_NEEDS = ("image_embeddings", "point_coords", "point_labels")


def _dims(arg) -> list:
    return list(arg.shape or [])


def _image_input(sess) -> str | None:
    ins = sess.get_inputs()
    if len(ins) != 1:
        return f"takes {len(ins)} inputs ({', '.join(i.name for i in ins)}), expected one image"
    shape = _dims(ins[0])
    if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
        return f"input {ins[0].name!r} has shape {shape}, expected an image batch [1, 3, H, W]"
    if "float" not in ins[0].type:
        return f"input {ins[0].name!r} is {ins[0].type}, expected float"
    return None


def _signature_problem(adapter: str, part: str, sess) -> str | None:
    outs = sess.get_outputs()
    if not outs:
        return "it has no outputs"
    first = _dims(outs[0])
    if adapter == "promptable" and part == "decoder":
        names = [i.name for i in sess.get_inputs()]
        missing = [n for n in SAM_DECODER_NEEDS if n not in names]
        extra = [n for n in names if n not in SAM_DECODER_FEED]
        if missing or extra:
            return (f"a SAM-style decoder takes {', '.join(SAM_DECODER_NEEDS)}; this one takes "
                    f"{', '.join(names) or 'nothing'}")
        return None if len(first) == 4 else f"output {outs[0].name!r} has shape {first}, expected masks [1, N, H, W]"
    problem = _image_input(sess)
    if problem:
        return problem
    if adapter == "face_parsing":
        if len(first) != 4 or (isinstance(first[1], int) and first[1] != len(FACE_PARSING_CLASSES)):
            return (f"output {outs[0].name!r} has shape {first}, expected {len(FACE_PARSING_CLASSES)} "
                    f"class maps [1, {len(FACE_PARSING_CLASSES)}, H, W]")
    elif adapter == "promptable":  # the encoder
        if len(first) != 4:
            return f"output {outs[0].name!r} has shape {first}, expected image embeddings [1, C, H, W]"
    elif adapter == "salient":
        if len(first) not in (3, 4) or (len(first) == 4 and isinstance(first[1], int) and first[1] != 1):
            return f"output {outs[0].name!r} has shape {first}, expected one saliency map [1, 1, H, W]"
    return None


def is_installed(pack: str) -> bool:
    spec = catalogue().get(pack)
    if spec is None:
        return False
    have = model_store.manifest()
    return all(n in have for n in _model_names(pack, spec).values())


def usable(pack: str) -> bool:
    """Whether ``pack`` is installed, so a mask kind should use it instead of its
    classical path.  A broken user manifest counts as not installed (the classical
    path still answers; ``maskroom models verify`` names the problem)."""
    try:
        return is_installed(pack)
    except Exception:
        return False


def _to_nchw(rgb01: np.ndarray, size: tuple[int, int], mean, std) -> np.ndarray:
    x = cv2.resize(rgb01.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(((x - mean) / std).transpose(2, 0, 1)[None])


def _input_hw(sess) -> tuple[int, int]:
    shape = sess.get_inputs()[0].shape
    h, w = shape[2], shape[3]
    return (int(h) if isinstance(h, int) else 320, int(w) if isinstance(w, int) else 320)


class SalientObjectPack:
    """U²-Net / ISNet / BiRefNet style: first output is a saliency map at input size."""

    name = "salient_object"

    def predict(self, rgb01: np.ndarray) -> np.ndarray:
        sess = model_store.get_session(self.name)
        h, w = _input_hw(sess)
        out = sess.run(None, {sess.get_inputs()[0].name: _to_nchw(rgb01, (w, h), IMAGENET_MEAN, IMAGENET_STD)})[0]
        sal = np.asarray(out, np.float32).reshape(out.shape[-2], out.shape[-1])
        if sal.min() < 0 or sal.max() > 1:  # logits
            sal = 1 / (1 + np.exp(-sal))
        lo, hi = float(sal.min()), float(sal.max())
        sal = (sal - lo) / (hi - lo) if hi - lo > 1e-6 else np.zeros_like(sal)  # U²-Net's own normalisation
        return cv2.resize(sal, (rgb01.shape[1], rgb01.shape[0]), interpolation=cv2.INTER_LINEAR)


class PromptablePack:
    """SAM-style: an image encoder run once, a prompt decoder per box/points.

    Decoder inputs follow the SAM ONNX export: image_embeddings, point_coords (1,N,2
    in encoder-input pixels), point_labels (1 = fg, 0 = bg, 2/3 = box corners),
    mask_input (1,1,256,256), has_mask_input (1), orig_im_size (2).
    """

    name = "promptable"
    # The encoder is the expensive half (seconds); several object prompts on one image
    # (or a prompt edited) reuse its embedding.  Keyed by the session and a digest of
    # every pixel, so another image, or a re-installed pack, encodes again.
    _embeddings: OrderedDict = OrderedDict()
    _cache_size = 2
    _lock = threading.Lock()

    def _encode(self, rgb01: np.ndarray):
        enc = model_store.get_session(f"{self.name}.encoder")
        key = (id(enc), model_store.model_info(f"{self.name}.encoder").get("sha256"), rgb01.shape, hashlib.blake2b(np.ascontiguousarray(rgb01).tobytes(), digest_size=16).digest())
        with self._lock:
            if key in self._embeddings:
                self._embeddings.move_to_end(key)
                return self._embeddings[key]
        out = self._run_encoder(enc, rgb01)
        with self._lock:
            self._embeddings[key] = out
            while len(self._embeddings) > self._cache_size:
                self._embeddings.popitem(last=False)
        return out

    def _run_encoder(self, enc, rgb01: np.ndarray):
        size = _input_hw(enc)[0]
        h, w = rgb01.shape[:2]
        scale = size / max(h, w)
        nh, nw = round(h * scale), round(w * scale)
        x = cv2.resize(rgb01.astype(np.float32) * 255, (nw, nh), interpolation=cv2.INTER_AREA)
        x = (x - SAM_MEAN) / SAM_STD
        padded = np.zeros((size, size, 3), np.float32)
        padded[:nh, :nw] = x
        emb = enc.run(None, {enc.get_inputs()[0].name: np.ascontiguousarray(padded.transpose(2, 0, 1)[None])})[0]
        return emb, scale

    def predict(self, rgb01: np.ndarray, box=None, points=None) -> np.ndarray:
        """Matte for a box [x0,y0,x1,y1] and/or points [(x,y,label)], all normalised 0..1."""
        if box is None and not points:
            raise ValueError("a promptable mask needs a box or points")
        h, w = rgb01.shape[:2]
        emb, scale = self._encode(rgb01)
        coords, labels = [], []
        for x, y, lab in points or []:
            coords.append((x * w * scale, y * h * scale))
            labels.append(float(lab))
        if box is not None:
            x0, y0, x1, y1 = box
            coords += [(x0 * w * scale, y0 * h * scale), (x1 * w * scale, y1 * h * scale)]
            labels += [2.0, 3.0]
        dec = model_store.get_session(f"{self.name}.decoder")
        feed = {
            "image_embeddings": emb,
            "point_coords": np.array([coords], np.float32),
            "point_labels": np.array([labels], np.float32),
            "mask_input": np.zeros((1, 1, 256, 256), np.float32),
            "has_mask_input": np.zeros(1, np.float32),
            "orig_im_size": np.array([h, w], np.float32),
        }
        names = {i.name for i in dec.get_inputs()}
        masks = dec.run(None, {k: v for k, v in feed.items() if k in names})[0]
        logits = np.asarray(masks, np.float32)[0, 0]
        if logits.shape != (h, w):
            logits = cv2.resize(logits, (w, h), interpolation=cv2.INTER_LINEAR)
        return 1 / (1 + np.exp(-logits))


class FaceParsingPack:
    """BiSeNet face parsing: a face crop -> 19-class label map at the crop's size."""

    name = "face_parsing"

    def predict(self, face_rgb01: np.ndarray) -> np.ndarray:
        sess = model_store.get_session(self.name)
        h, w = _input_hw(sess)
        out = sess.run(None, {sess.get_inputs()[0].name: _to_nchw(face_rgb01, (w, h), IMAGENET_MEAN, IMAGENET_STD)})[0]
        labels = np.asarray(out)[0].argmax(0).astype(np.uint8)
        return cv2.resize(labels, (face_rgb01.shape[1], face_rgb01.shape[0]), interpolation=cv2.INTER_NEAREST)

    def part(self, face_rgb01: np.ndarray, *classes: str) -> np.ndarray:
        labels = self.predict(face_rgb01)
        ids = [FACE_PARSING_CLASSES.index(c) for c in classes]
        return np.isin(labels, ids).astype(np.float32)
