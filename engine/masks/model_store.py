"""Run-time access to the ONNX models: manifest look-up, integrity check, sessions.

Models ship inside the package (``maskroom/models``) or are installed by the user
as packs into the user model folder (``MASKROOM_MODELS_DIR`` or the platform's
user data folder + ``/models``).  Each file is checked against the manifest's
sha256 the first time it is loaded in a process, and one onnxruntime session per
model is kept for the life of the process: creating sessions is the slow part.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import platformdirs

from maskroom.core.errors import MaskroomError

ENV_MODELS_DIR = "MASKROOM_MODELS_DIR"


class ModelError(MaskroomError, RuntimeError):
    """A model that cannot be used; the message names the file and what to do."""


def package_dir() -> Path:
    return Path(str(resources.files("maskroom.models")))


def user_dir() -> Path:
    env = os.environ.get(ENV_MODELS_DIR)
    return Path(env) if env else Path(platformdirs.user_data_dir("maskroom", appauthor=False)) / "models"


_manifest_cache: dict[str, tuple[tuple[int, int], dict]] = {}


def _read_manifest(path: Path) -> dict:
    """The parsed manifest, re-read only when the file changed (mask code asks often)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    key = (st.st_mtime_ns, st.st_size)
    hit = _manifest_cache.get(str(path))
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable model manifest ({exc})") from None
    _manifest_cache[str(path)] = (key, doc)
    return doc


def manifest() -> dict:
    """Models by name: the packaged manifest, plus packs the user installed."""
    # Copies: the parsed documents are cached and must not be changed by callers.
    models = {k: dict(v) for k, v in _read_manifest(package_dir() / "manifest.json").get("models", {}).items()}
    for name, entry in _read_manifest(user_dir() / "manifest.json").get("models", {}).items():
        models.setdefault(name, {**entry, "_user": True})
    return models


def model_info(name: str) -> dict:
    entry = manifest().get(name)
    if entry is None:
        raise ModelError(f"model {name!r} is not in the manifest (known: {', '.join(sorted(manifest())) or 'none'})")
    return entry


def model_path(name: str) -> Path:
    entry = model_info(name)
    base = user_dir() if entry.get("_user") else package_dir()
    return base / entry["file"]


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()


def sha256_file(path: Path) -> str:
    return file_digest(path, "sha256")


def verify(name: str) -> Path:
    """The model's file, after checking it exists and matches its sha256."""
    path = model_path(name)
    if not path.exists():
        hint = f"install it with `maskroom models install {name}`" if model_info(name).get("_user") \
            else "reinstall maskroom"
        raise ModelError(f"{path}: model file {name!r} is missing; {hint}")
    expected = model_info(name).get("sha256")
    actual = sha256_file(path)
    if expected and actual != expected:
        raise ModelError(f"{path}: model file {name!r} is corrupt (sha256 {actual[:12]}… expected {expected[:12]}…)")
    return path


_lock = threading.Lock()
# Sessions by model name: a cold mask asks 20 times, and the hit path must not read
# the manifests each time.  Installing a pack clears them (packs.install).
_sessions: dict[str, object] = {}


def get_session(name: str):
    """The one onnxruntime session of a model in this process (created on first use)."""
    sess = _sessions.get(name)
    if sess is not None:
        return sess
    with _lock:
        sess = _sessions.get(name)
        if sess is None:
            import onnxruntime as ort  # lazy: onnxruntime only when a model runs (CLI start-up time)

            path = model_path(name)
            verify(name)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = _threads()
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            # No busy-waiting between runs: a mask alternates model runs with numpy and
            # OpenCV work, and onnxruntime's spinning workers took the cores from it.
            # bench/people_bench.py and bench/masks_bench.py, 2 threads on 2 cores,
            # spinning on -> off: cold person mask 0.24 -> 0.15 s wall (CPU 0.46 -> 0.21),
            # 6 cold face parts 0.33 -> 0.23 s, sky 0.32 -> 0.29 s (CPU 0.57 -> 0.45).
            # A model timed alone, run after run, is ~15 % faster with spinning
            # (models/CONVERSION.md); a mask is not that.
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            # onnxruntime's default, stated so it is not lost: all graph rewrites, incl. the
            # QDQ -> integer-kernel fusions the int8 sky model relies on.  Not saved offline:
            # an ENABLE_ALL optimised file is tied to the machine it was made on.
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            try:
                sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            except Exception as exc:
                raise ModelError(f"{path}: onnxruntime cannot load model {name!r} ({exc})") from None
            _sessions[name] = sess
    return sess


def threads() -> int:
    """Threads each model session of this process uses: the process's thread budget (1 in
    a batch worker, where the workers are the parallelism)."""
    return _threads()


@lru_cache(maxsize=1)
def _threads() -> int:
    env = os.environ.get("MASKROOM_ONNX_THREADS")
    if env:
        return max(1, int(env))
    return max(1, min(4, os.cpu_count() or 1))


def clear_sessions() -> None:
    """Forget every session (tests; after installing a pack over an old file)."""
    with _lock:
        _sessions.clear()
