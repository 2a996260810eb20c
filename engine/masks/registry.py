"""The registry of mask component kinds.

Each kind is one function ``(MaskInput, MaskComponent) -> MaskResult`` registered
under its name.  Geometric and range kinds live in ``engine/masks/geometric.py`` and
``engine/masks/ranges.py``; AI kinds in their own modules.  ``load_kinds`` imports
every module that registers kinds so callers never depend on import order.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from maskroom.core.recipe import MaskComponent


@dataclass
class MaskInput:
    """What a component is derived from.

    ``image`` is display-referred sRGB float32 in 0..1, HxWx3, at the working scale
    (the cached preview for interactive work, full size for export).  ``linear`` is
    the same pixels in the linear working space when the pipeline has them (range
    kinds sample luminance there).  ``digest`` identifies the pixels (image content +
    upstream edit): it keys the mask raster cache.
    """

    image: np.ndarray
    digest: str = ""
    linear: np.ndarray | None = None
    image_id: int | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape[:2]


@dataclass
class MaskResult:
    alpha: np.ndarray  # float32 HxW in 0..1, at MaskInput's resolution
    found: bool = True  # "nothing found" (no sky, no face) is a result, not an error
    score: float | None = None  # model confidence, when the kind has one
    model: str | None = None
    model_version: str | None = None
    info: dict | None = None  # kind-specific details (person boxes, landmarks...)


def warning(kind: str, result: MaskResult) -> str | None:
    """Why an AI result is empty or doubtful (one line), or None when it is neither.

    Kinds put their reason in ``info["reason"]`` ("no face found for person 2", "no
    clear subject in this photo ..."); an empty result without one still gets a line:
    an empty mask is never silent.
    """
    reason = (result.info or {}).get("reason")
    if reason:
        return str(reason)[:256]
    if not result.found:
        return f"no {kind} in this photo"
    return None


def confidence(result: MaskResult) -> float | None:
    """The kind's own confidence 0..1 (``info["confidence"]``), 0 for an empty result."""
    value = (result.info or {}).get("confidence")
    if value is None:
        return None if result.found else 0.0
    return float(value)


def matte_result(alpha: np.ndarray, *, model: str, model_version: str, method: str,
                 confidence: float | None = None, reason: str | None = None, empty: str) -> MaskResult:
    """A matte kind's result: score = covered fraction, ``info`` with the method used, the
    confidence and the reason (``empty`` when nothing is covered)."""
    fraction = float((alpha > 0.5).mean())
    if fraction == 0:
        reason = empty
    info = {"method": method}
    if confidence is not None:
        info["confidence"] = confidence
    if reason:
        info["reason"] = reason
    return MaskResult(alpha=alpha, found=fraction > 0, score=fraction, model=model, model_version=model_version,
                      info=info)


MaskFn = Callable[[MaskInput, MaskComponent], MaskResult]


@dataclass(frozen=True)
class KindSpec:
    name: str
    fn: MaskFn
    # Manifest name(s) of the model(s) it runs: their versions key its cached rasters.
    model: str | tuple[str, ...] | None = None
    model_version: str | None = None

    @property
    def models(self) -> tuple[str, ...]:
        if not self.model:
            return ()
        return (self.model,) if isinstance(self.model, str) else tuple(self.model)


_KINDS: dict[str, KindSpec] = {}

# Modules that register kinds.  Missing optional ones are skipped so a partial
# install still serves the kinds it has.
KIND_MODULES = (
    "maskroom.engine.masks.geometric",
    "maskroom.engine.masks.ranges",
    "maskroom.engine.masks.sky",
    "maskroom.engine.masks.subject",
    "maskroom.engine.masks.people",
    "maskroom.engine.masks.objects",
)
_loaded = False


def register(name: str, *, model: str | tuple[str, ...] | None = None, model_version: str | None = None):
    def deco(fn: MaskFn) -> MaskFn:
        _KINDS[name] = KindSpec(name, fn, model, model_version)
        return fn

    return deco


def load_kinds() -> None:
    global _loaded
    if _loaded:
        return
    for mod in KIND_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    _loaded = True


def get_kind(name: str) -> KindSpec:
    load_kinds()
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"mask kind {name!r} is not available in this install") from None


def available_kinds() -> list[str]:
    load_kinds()
    return sorted(_KINDS)
