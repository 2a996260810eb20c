"""The ONNX models behind AI masks and the optional packs (``maskroom models``)."""
from __future__ import annotations

from pathlib import Path

from maskroom.engine.masks import model_store, packs
from maskroom.engine.masks.model_store import ModelError

__all__ = ["ModelError", "list_models", "verify_all", "install_pack", "user_dir"]


def list_models() -> list[dict]:
    """Shipped models and installed packs, then the packs that could be installed."""
    rows = []
    for name, e in sorted(model_store.manifest().items()):
        rows.append({"name": name, "version": e.get("version"), "file": e.get("file"),
                     "where": "user pack" if e.get("_user") else "shipped", "licence": e.get("licence")
                     or e.get("source", {}).get("licence")})
    for name, spec in packs.catalogue().items():
        if not packs.is_installed(name):
            rows.append({"name": name, "version": spec.get("version"), "file": spec.get("file") or spec.get("files"),
                         "where": "not installed (pack)", "licence": spec.get("licence")})
    return rows


def verify_all() -> list[tuple[str, str | None]]:
    """(model name, problem or None) for every model, checked against its sha256."""
    out = []
    for name in sorted(model_store.manifest()):
        try:
            model_store.verify(name)
            out.append((name, None))
        except ModelError as exc:
            out.append((name, str(exc)))
    return out


def install_pack(pack: str, sources: list[Path]) -> list[str]:
    """Install a model pack from files the user downloaded (nothing is fetched)."""
    return packs.install(pack, list(sources))


def user_dir() -> Path:
    return model_store.user_dir()
