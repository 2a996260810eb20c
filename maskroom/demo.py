"""The guided demo: import the shipped photos, mask them, build a series, sync, export.

Every step calls the same services the CLI and the app use; the demo only chooses
the inputs and prints what happened.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from maskroom.catalog import Catalog

Say = Callable[[str], None]


def shipped_samples() -> Path:
    return Path(str(resources.files("maskroom") / "data" / "samples"))


@dataclass
class DemoReport:
    imported: list[int] = field(default_factory=list)
    overlays: list[Path] = field(default_factory=list)
    series_ids: list[int] = field(default_factory=list)
    exported: list[Path] = field(default_factory=list)


def copy_samples(dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for src in sorted(shipped_samples().iterdir()):
        if src.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"}:
            target = dest / src.name
            if not target.exists():
                shutil.copy2(src, target)
            out.append(target)
    return out


def camera_move(rgb: np.ndarray, dx: float = 0.0, dy: float = 0.0, angle: float = 0.0, zoom: float = 1.0,
                ev: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The frame after a camera move; dx, dy in pixels, angle in degrees (counter-clockwise).

    Returns (frame, M) where M is the 3x3 pixel mapping original -> frame.  The
    border is filled by reflection so the frame has no black wedge (a real camera
    sees more scene, not black).
    """
    h, w = rgb.shape[:2]
    A = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    A[:, 2] += (dx, dy)
    out = cv2.warpAffine(rgb, A, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if ev:
        lin = (out.astype(np.float32) / 255.0) ** 2.2 * (2.0 ** ev)
        out = (np.clip(lin, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)
    return out, np.vstack([A, [0, 0, 1]])


def make_series(src: Path, dest: Path, frames: int = 5, seed: int = 7) -> list[Path]:
    """Frames that look like a handheld burst of one scene: small shifts, a slight
    rotation, exposure steps (bracketing), each saved as its own JPEG with its own
    capture time so series detection has real work to do."""
    from PIL import Image as PILImage

    dest.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    with PILImage.open(src) as im:
        base = np.asarray(im.convert("RGB"))
        exif = im.getexif()
    h, w = base.shape[:2]
    paths = []
    for i in range(frames):
        dx, dy = (rng.uniform(-0.03, 0.03, 2) * (w, h)) if i else (0.0, 0.0)
        angle = float(rng.uniform(-2.0, 2.0)) if i else 0.0
        gain = 2.0 ** (0.3 * ((i % 3) - 1)) if i else 1.0
        frame, _ = camera_move(base, dx=dx, dy=dy, angle=angle)
        frame = np.clip(frame.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        out = dest / f"{src.stem}_burst_{i + 1:02d}.jpg"
        exif[0x9003] = f"2024:05:01 10:00:{i * 2:02d}"  # DateTimeOriginal, 2 s apart
        exif[0x0132] = exif[0x9003]
        PILImage.fromarray(frame).save(out, quality=92, exif=exif.tobytes())
        paths.append(out)
    return paths


def save_overlay(rgb: np.ndarray, alpha: np.ndarray, out: Path) -> Path:
    """The photo with the mask drawn in red, as Lightroom shows an active mask."""
    if alpha.shape != rgb.shape[:2]:
        alpha = cv2.resize(alpha, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    a = (alpha[..., None] * 0.55).astype(np.float32)
    red = np.array([255, 0, 0], np.float32)
    mixed = rgb.astype(np.float32) * (1 - a) + red * a
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(mixed.astype(np.uint8), cv2.COLOR_RGB2BGR))
    return out


def add_masked_layer(catalog, image_id: int, name: str, kind: str, adjustments: dict, params=None) -> int:
    """One layer whose mask is a single component of ``kind``; returns the version id."""
    from maskroom.catalog import edits
    from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition

    with catalog.session() as s:
        version = edits.get_version(s, image_id)
        recipe = edits.load_recipe(s, version.id)
        recipe.layers = [layer for layer in recipe.layers if layer.name != name]
        comp = MaskComponent(kind=kind, params=dict(params or {}))
        recipe.layers.append(Layer(name=name, adjustments=adjustments, mask=MaskDefinition([comp])))
        edits.save_recipe(s, version.id, recipe, f"Demo: {name}")
        return version.id


def mask_overlays(catalog, image_ids: list[int], kinds: list[str], out_dir: Path, say: Say) -> list[Path]:
    """Add an AI mask layer per kind to each photo and draw each mask over its photo."""
    from maskroom.catalog.schema import Image
    from maskroom.engine.develop.render import mask_alpha
    from maskroom.engine.imageio.previews import load_preview

    written = []
    for image_id in image_ids:
        with catalog.session() as s:
            image = s.get(Image, image_id)
            stem = Path(image.filename).stem
            rgb = load_preview(catalog, image)
        found = []
        for kind in kinds:
            name = f"{kind.title()} mask"
            version_id = add_masked_layer(catalog, image_id, name, kind, {"exposure": 0.3})
            alpha = mask_alpha(catalog, version_id, name)
            if float(alpha.mean()) > 0.002:
                found.append(f"{kind} {100 * float((alpha > 0.5).mean()):.0f}%")
                written.append(save_overlay(rgb, alpha, out_dir / f"{stem}_{kind}.png"))
            else:
                found.append(f"{kind} none")
        say(f"  masks on {image.filename}: {', '.join(found)}")
    return written


def run_demo(catalog: Catalog, workdir: Path, say: Say = print) -> DemoReport:
    from sqlalchemy import select

    from maskroom.catalog.schema import Image
    from maskroom.engine.export.job import ExportSettings, master_version_ids, run_export
    from maskroom.engine.importer import run_import
    from maskroom.engine.series.detect import detect_series
    from maskroom.engine.sync.engine import run_sync

    report = DemoReport()
    workdir = Path(workdir).resolve()

    # 1. Import the shipped sample photos.
    photos = workdir / "photos"
    copy_samples(photos)
    result = run_import(catalog, [photos])
    say(f"1. imported {len(result.imported)} photos from {photos} "
        f"({len(result.duplicates)} already in the catalog, {len(result.skipped)} skipped)")
    with catalog.session() as s:
        by_name = {i.filename: i.id for i in s.scalars(select(Image).where(Image.folder.has(path=str(photos))))}
    report.imported = sorted(by_name.values())

    # 2. AI masks: subject, sky and people, drawn over each photo.
    say("2. deriving subject, sky and people masks (overlays in overlays/)")
    report.overlays = mask_overlays(catalog, report.imported, ["subject", "sky", "person"], workdir / "overlays", say)

    # 3. A burst of one portrait: series detection groups it.
    burst = make_series(photos / "mpl_grace_hopper.jpg", workdir / "burst", frames=5)
    result = run_import(catalog, [workdir / "burst"])
    with catalog.session() as s:
        frames = [s.scalar(select(Image.id).where(Image.path == str(p))) for p in burst]
    series = detect_series(catalog)
    report.series_ids = [x.id for x in series] if isinstance(series, list) else []
    say(f"3. imported a {len(frames)}-frame burst; series detection found {len(report.series_ids)} series")

    # 4. Edit the first frame: face skin softened, background darkened, global warmth.
    first, rest = frames[0], frames[1:]
    add_masked_layer(catalog, first, "Face skin", "face-skin", {"texture": -30, "clarity": -10})
    add_masked_layer(catalog, first, "Background", "background", {"exposure": -0.6, "saturation": -20})
    from maskroom.catalog import edits

    with catalog.session() as s:
        v = edits.get_version(s, first)
        recipe = edits.load_recipe(s, v.id)
        recipe.global_layer.adjustments.update({"temperature": 8, "contrast": 10})
        edits.save_recipe(s, v.id, recipe, "Demo: warm global look")
    say("4. edited frame 1: global warmth + masked 'Face skin' and 'Background' layers")

    # 5. Sync to the other frames: every AI mask is derived again on each frame.
    sync = run_sync(catalog, first, rest)
    states = [t.status for t in sync.targets]
    flagged = sum(1 for t in sync.targets for c in t.components if c.flag)
    say(f"5. synced to {len(rest)} frames: {', '.join(states)}; {flagged} component(s) flagged for review")

    # 6. Export the burst.
    out = workdir / "export"
    with catalog.session() as s:
        versions = master_version_ids(s, frames)
    exported = run_export(catalog, versions, out, ExportSettings(long_edge=1024, template="{seq:02}_{name}"))
    report.exported = sorted(out.glob("*.jpg"))
    say(f"6. exported {len(report.exported)} JPEGs to {out}")
    return report
