"""Stand-ins used only while a real service is not installed (see services.py).

Deliberately minimal: enough for the app to open a catalog, show, edit, sync and
export the sample photos.  Each one is replaced by the service of the same name.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps
from sqlalchemy import select

from maskroom.catalog.schema import EditVersion, Folder, Image
from maskroom.engine.recipe import Layer
from maskroom.progress import Progress

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"}


def _files(paths, recursive):
    for p in map(Path, paths):
        if p.is_dir():
            it = p.rglob("*") if recursive else p.iterdir()
            yield from sorted(f for f in it if f.is_file() and f.suffix.lower() in SUFFIXES)
        elif p.is_file():
            yield p


def import_files(catalog, paths, progress: Progress, *, recursive=True):
    import xxhash

    files = list(_files(paths, recursive))
    progress.start(len(files), "Importing")
    imported, problems = [], []
    for f in files:
        if progress.cancelled():
            break
        try:
            data = f.read_bytes()
            with PILImage.open(f) as im:
                im = ImageOps.exif_transpose(im)
                w, h = im.size
                fmt = (im.format or f.suffix.lstrip(".")).lower()
            digest = xxhash.xxh3_128_hexdigest(data)
            with catalog.session() as s:
                if s.scalars(select(Image.id).where(Image.content_hash == digest)).first():
                    continue
                folder = s.scalars(select(Folder).where(Folder.path == str(f.parent.resolve()))).first()
                if folder is None:
                    folder = Folder(path=str(f.parent.resolve()))
                    s.add(folder)
                    s.flush()
                st = f.stat()
                image = Image(folder_id=folder.id, filename=f.name, path=str(f.resolve()), file_size=st.st_size,
                              mtime=st.st_mtime, content_hash=digest, format=fmt or "jpeg", width=w, height=h)
                s.add(image)
                s.flush()
                imported.append(image.id)
        except Exception as exc:  # noqa: BLE001 - a bad file never stops the batch
            problems.append(f"{f}: {exc}")
            progress.message(f"{f}: {exc}")
        finally:
            progress.advance(1, f.name)
    return imported, problems


def decode(catalog, image_id, long_edge=None) -> np.ndarray:
    with catalog.session() as s:
        path = s.get(Image, image_id).path
    with PILImage.open(path) as im:
        if long_edge:
            im.draft("RGB", (long_edge, long_edge))
        im = ImageOps.exif_transpose(im).convert("RGB")
        if long_edge and max(im.size) > long_edge:
            im.thumbnail((long_edge, long_edge), PILImage.Resampling.LANCZOS)
        return np.asarray(im)


def thumbnail(catalog, image_id, size) -> Path:
    with catalog.session() as s:
        im = s.get(Image, image_id)
        key, path = im.content_hash, im.path
    out = Path(catalog.cache_dir) / "ui-thumbs" / key[:2] / f"{key}_{size}.jpg"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with PILImage.open(path) as pim:
        pim.draft("RGB", (size, size))
        pim = ImageOps.exif_transpose(pim).convert("RGB")
        pim.thumbnail((size, size), PILImage.Resampling.BILINEAR)
        tmp = out.with_suffix(f".{os.getpid()}.part")
        pim.save(tmp, "JPEG", quality=85)
        os.replace(tmp, out)
    return out


# -- render -----------------------------------------------------------------------------
def _srgb_to_linear(x):
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(x):
    x = np.clip(x, 0, 1)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)


def _apply(lin, adj):
    out = lin
    if adj.get("exposure"):
        out = out * np.float32(2.0 ** adj["exposure"])
    if adj.get("temperature") or adj.get("tint"):
        t, g = adj.get("temperature", 0) / 200, adj.get("tint", 0) / 200
        out = out * np.array([1 + t, 1 - g, 1 - t], np.float32)
    if adj.get("contrast"):
        k = 1 + adj["contrast"] / 100
        out = 0.18 * (np.maximum(out, 1e-6) / 0.18) ** k
    if adj.get("saturation") or adj.get("vibrance"):
        luma = (out @ np.array([0.2126, 0.7152, 0.0722], np.float32))[..., None]
        out = luma + (out - luma) * np.float32(1 + (adj.get("saturation", 0) + adj.get("vibrance", 0)) / 100)
    return out


def _mask_input(rgb_u8, image_id, digest):
    from maskroom.engine.masks.registry import MaskInput

    img = rgb_u8.astype(np.float32) / 255.0
    return MaskInput(image=img, digest=digest, linear=_srgb_to_linear(img).astype(np.float32), image_id=image_id)


def _compose(definition, inp, catalog, version_id):
    from maskroom.engine.masks.cache import CachedResolver
    from maskroom.engine.masks.compose import compose

    return compose(definition, inp, CachedResolver(catalog, version_id))


def render(catalog, version_id, long_edge, recipe=None) -> np.ndarray:
    with catalog.session() as s:
        v = s.get(EditVersion, version_id)
        image_id, content = v.image_id, v.image.content_hash
    if recipe is None:
        from maskroom.ui.services import load_recipe

        recipe = load_recipe(catalog, version_id)
    rgb = decode(catalog, image_id, long_edge)
    inp = _mask_input(rgb, image_id, hashlib.sha256(f"{content}:{rgb.shape}".encode()).hexdigest())
    lin = inp.linear
    for layer in recipe.layers:
        if not layer.enabled or not layer.adjustments:
            continue
        adjusted = _apply(lin, layer.adjustments)
        alpha = np.float32(layer.opacity)
        if layer.mask is not None:
            alpha = _compose(layer.mask, inp, catalog, version_id)[..., None] * alpha
        lin = lin + (adjusted - lin) * alpha
    return (_linear_to_srgb(lin) * 255 + 0.5).astype(np.uint8)


def mask_alpha(catalog, version_id, layer_name, recipe=None) -> np.ndarray:
    from maskroom.engine.masks.cache import mask_input

    if recipe is None:
        from maskroom.ui.services import load_recipe

        recipe = load_recipe(catalog, version_id)
    layer = recipe.layer(layer_name)
    if layer is None:
        raise KeyError(f"no layer named {layer_name!r}")
    with catalog.session() as s:
        image_id = s.get(EditVersion, version_id).image_id
    # The same pixels (and so the same cache keys) as `maskroom mask refresh`.
    return _compose(layer.mask, mask_input(catalog, image_id), catalog, version_id)


# -- sync / export -------------------------------------------------------------------------
def sync(catalog, source_version_id, targets, what, progress: Progress):
    from maskroom.ui import services

    src = services.load_recipe(catalog, source_version_id)
    progress.start(len(targets), "Syncing")
    review = []
    for vid in targets:
        if progress.cancelled():
            break
        try:
            dst = services.load_recipe(catalog, vid)
            if what.get("global", True):
                dst.layers[0].adjustments = dict(src.layers[0].adjustments)
            if what.get("masks", True):
                dst.layers = [dst.layers[0]] + [Layer.from_dict(layer.to_dict()) for layer in src.layers[1:]]
                for layer in dst.layers[1:]:
                    for c in layer.mask.components:
                        c.derived = {}  # AI components re-derive on the target's pixels
            if what.get("crop", False) and "crop" in src.settings:
                dst.settings["crop"] = src.settings["crop"]
            services.save_recipe(catalog, vid, dst, "Sync settings")
            for layer in dst.layers[1:]:
                if any(c.is_ai for c in layer.mask.components):
                    a = services.mask_alpha(catalog, vid, layer.name, 512)
                    if float(a.max(initial=0)) < 0.05:
                        review.append({"version_id": vid, "layer": layer.name,
                                       "reason": "nothing found on this frame", "confidence": 0.0})
        except Exception as exc:  # noqa: BLE001 - one target failing never stops the rest
            review.append({"version_id": vid, "layer": "", "reason": f"sync failed: {exc}", "confidence": 0.0})
        finally:
            progress.advance(1, str(vid))
    return review


def export(catalog, version_ids, out_dir, settings, progress: Progress):
    from maskroom.engine.export.job import plan_export
    from maskroom.engine.export.writers import write_image

    with catalog.session() as s:
        tasks = plan_export(s, list(version_ids), out_dir, settings)
    progress.start(len(tasks), "Exporting")
    written, problems = [], []
    for task in tasks:
        if progress.cancelled():
            break
        try:
            rgb = render(catalog, task.version_id, settings.long_edge)
            pixels = rgb if settings.bits == 8 else (rgb.astype(np.uint16) * 257)
            write_image(Path(task.target), pixels, settings.format, bits=settings.bits, icc=None,
                        quality=settings.quality)
            written.append(Path(task.target))
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{task.source}: {exc}")
            progress.message(f"{task.source}: {exc}")
        finally:
            progress.advance(1, Path(task.target).name)
    return written, problems
