"""Caching derived AI mask rasters in the catalog (like Lightroom's mask digests).

``CachedResolver(catalog, version_id)`` is a compose resolver: for an AI component it
looks up a ``MaskRaster`` row keyed by (version, component uid, input digest, model
version).  The input digest hashes the pixels' digest (``MaskInput.digest``: image
content + upstream edit), the working size and the component's intent (kind,
params; not feather/invert/mode, which compose applies after the cache), so moving a
box or changing the photo misses the cache.  "Nothing found" is stored as a row with
status ``empty`` and no file: asking again does not re-run the model.  Geometric and
range kinds are cheap and always derived.

Rasters are 16-bit greyscale PNGs under ``<cache_dir>/masks/<version_id>/``.  When a
component is re-derived, its older rows and files are deleted.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select

from maskroom.catalog.schema import MaskRaster
from maskroom.core.files import atomic_path, verify_image
from maskroom.core.recipe import MaskComponent
from maskroom.engine.masks.compose import derive
from maskroom.engine.masks.model_store import model_info
from maskroom.engine.masks.registry import MaskInput, MaskResult, confidence, get_kind, warning

# Parts of a component's intent that compose applies after derivation: changing them
# must not invalidate the raster.
_POST_FIELDS = ("mode", "inverted", "feather", "density", "grow")


def kind_version(kind: str) -> str:
    """The version string a kind's rasters are keyed by (code + model file versions)."""
    spec = get_kind(kind)
    parts = [spec.model_version or "1"]
    for name in spec.models:
        try:
            info = model_info(name)
            parts.append(str(info.get("version") or (info.get("sha256") or "")[:12] or "?"))
        except Exception:  # model store missing: the kind will say so when derived
            parts.append("?")
    return "+".join(parts)[:64]


def input_digest(inp: MaskInput, comp: MaskComponent) -> str:
    intent = {k: v for k, v in comp.intent().items() if k not in _POST_FIELDS}
    h = hashlib.sha256()
    h.update((inp.digest or "").encode())
    h.update(f"{inp.shape[0]}x{inp.shape[1]}".encode())
    h.update(json.dumps(intent, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _raster_dir(catalog, version_id: int) -> Path:
    return Path(catalog.cache_dir) / "masks" / str(version_id)


def write_alpha(path: Path, alpha: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (np.clip(alpha, 0, 1) * 65535.0 + 0.5).astype(np.uint16)
    with atomic_path(path, verify=verify_image) as tmp:  # a fresh temp name each: two may derive one raster at once
        if not cv2.imwrite(str(tmp), data):
            raise OSError(f"{path}: cannot write mask raster")


def read_alpha(path: Path) -> np.ndarray | None:
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        return None
    scale = 65535.0 if data.dtype == np.uint16 else 255.0
    return data.astype(np.float32) / scale


class CachedResolver:
    """Compose resolver that stores and reuses AI rasters for one edit version."""

    def __init__(self, catalog, version_id: int):
        self.catalog = catalog
        self.version_id = int(version_id)
        self.hits = 0
        self.misses = 0
        # (component uid, kind, confidence, reason) of each AI result that is empty or
        # doubtful, in the order they were resolved: the CLI prints them, review lists them.
        self.warnings: list[tuple[str, str, float | None, str]] = []

    def key(self, inp: MaskInput, comp: MaskComponent) -> tuple[str, str]:
        return input_digest(inp, comp), kind_version(comp.kind)

    def _lookup(self, session, comp: MaskComponent, digest: str, version: str) -> MaskRaster | None:
        return session.scalars(
            select(MaskRaster).where(
                MaskRaster.version_id == self.version_id,
                MaskRaster.component_uid == comp.uid,
                MaskRaster.input_digest == digest,
                MaskRaster.model_version == version,
            )
        ).first()

    def cached(self, inp: MaskInput, comp: MaskComponent) -> MaskResult | None:
        """The stored result, or None when missing or stale."""
        digest, version = self.key(inp, comp)
        with self.catalog.session() as s:
            row = self._lookup(s, comp, digest, version)
            if row is None:
                return None
            h, w = inp.shape
            info = {k: v for k, v in (("confidence", row.confidence), ("reason", row.reason)) if v is not None}
            if row.status == "empty":
                return MaskResult(np.zeros((h, w), np.float32), found=False, score=row.score,
                                  model=row.model_name, model_version=row.model_version, info=info)
            alpha = read_alpha(Path(self.catalog.cache_dir) / row.path) if row.path else None
            if alpha is None or alpha.shape != (h, w):
                return None  # file lost or resized: derive again
            return MaskResult(alpha, found=True, score=row.score, model=row.model_name,
                              model_version=row.model_version, info=info)

    def is_stale(self, inp: MaskInput, comp: MaskComponent) -> bool:
        if not comp.is_ai:
            return False
        return self.cached(inp, comp) is None

    def __call__(self, inp: MaskInput, comp: MaskComponent) -> MaskResult:
        if not comp.is_ai:
            return derive(inp, comp)
        hit = self.cached(inp, comp)
        if hit is not None:
            self.hits += 1
            self._note(comp, hit, inp)
            return hit
        self.misses += 1
        result = derive(inp, comp)
        self.store(inp, comp, result)
        return result

    def store(self, inp: MaskInput, comp: MaskComponent, result: MaskResult) -> None:
        digest, version = self.key(inp, comp)
        h, w = result.alpha.shape
        empty = (not result.found) or float(result.alpha.max(initial=0.0)) <= 0.0
        rel = None
        if not empty:
            rel_path = Path("masks") / str(self.version_id) / f"{comp.uid}-{digest[:16]}.png"
            write_alpha(Path(self.catalog.cache_dir) / rel_path, result.alpha)
            rel = rel_path.as_posix()
        mask_digest = None if empty else hashlib.sha256(result.alpha.tobytes()).hexdigest()
        with self.catalog.session() as s:
            old = s.scalars(
                select(MaskRaster).where(
                    MaskRaster.version_id == self.version_id, MaskRaster.component_uid == comp.uid
                )
            ).all()
            for row in old:
                if row.path and row.path != rel:
                    (Path(self.catalog.cache_dir) / row.path).unlink(missing_ok=True)
                s.delete(row)
            s.flush()
            s.add(MaskRaster(
                version_id=self.version_id, component_uid=comp.uid, input_digest=digest,
                model_name=result.model, model_version=version, mask_digest=mask_digest,
                path=rel, width=w, height=h, status="empty" if empty else "ok",
                score=None if result.score is None else float(result.score),
                confidence=confidence(result), reason=warning(comp.kind, result),
            ))
        self._note(comp, result, inp)

    def _note(self, comp: MaskComponent, result: MaskResult, inp: MaskInput) -> None:
        """Informative derived state on the component (saved with the recipe by callers)."""
        reason = warning(comp.kind, result)
        comp.derived = {
            "input_digest": input_digest(inp, comp),
            "model": result.model,
            "model_version": result.model_version,
            "status": "ok" if result.found else "empty",
            "score": result.score,
            "confidence": confidence(result),
            "reason": reason,
        }
        if reason:
            self.warnings.append((comp.uid, comp.kind, confidence(result), reason))
