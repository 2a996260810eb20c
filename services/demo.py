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
from PIL import Image as PILImage

from maskroom.catalog import Catalog
from maskroom.core.config import default_catalog_path
from maskroom.core.files import atomic_path, verify_image
from maskroom.core.progress import Progress
from maskroom.core.recipe import MaskComponent, MaskDefinition
from maskroom.engine.masks.overlay import overlay
from maskroom.services import develop, editing, library, masks
from maskroom.services import export as export_service
from maskroom.services import sync as sync_service
from maskroom.services.editing import EditChange
from maskroom.services.export import ExportSettings
from maskroom.services.importing import import_photos

Say = Callable[[str], None]


def default_workdir() -> Path:
    """Where the demo keeps its photos, overlays and exports by default: beside the
    default catalog in the user data folder (a clone or the home folder stays clean)."""
    return default_catalog_path().parent / "demo"


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
        with atomic_path(out, verify=verify_image) as tmp:
            PILImage.fromarray(frame).save(tmp, "JPEG", quality=92, exif=exif.tobytes())
        paths.append(out)
    return paths


def save_overlay(rgb: np.ndarray, alpha: np.ndarray, out: Path) -> Path:
    """The photo with the mask drawn in red, as `maskroom mask render --overlay` draws it."""
    mixed = np.clip(overlay(rgb.astype(np.float32) / 255.0, alpha), 0, 1) * 255.0 + 0.5
    with atomic_path(out, verify=verify_image) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(mixed.astype(np.uint8), cv2.COLOR_RGB2BGR)):
            raise OSError(f"{out}: cannot write the overlay")
    return out


def add_masked_layer(catalog, image_id: int, name: str, kind: str, adjustments: dict, params=None) -> int:
    """One layer whose mask is a single component of ``kind`` (replacing a layer of that
    name, so a second run adds nothing twice); returns the version id."""
    comp = MaskComponent(kind=kind, params=dict(params or {}))
    change = EditChange(adjustments=adjustments, layer=name, mask=MaskDefinition([comp]))
    return editing.apply_edit(catalog, image_id, change)["version_id"]


def mask_overlays(catalog, image_ids: list[int], kinds: list[str], out_dir: Path, say: Say) -> list[Path]:
    """Add an AI mask layer per kind to each photo and draw each mask over its photo."""
    written = []
    for image_id in image_ids:
        filename = library.image_details(catalog, image_id)["filename"]
        stem = Path(filename).stem
        rgb = develop.original_preview(catalog, image_id)
        found = []
        for kind in kinds:
            name = f"{kind.title()} mask"
            version_id = add_masked_layer(catalog, image_id, name, kind, {"exposure": 0.3})
            alpha = masks.mask_alpha(catalog, version_id, name)
            # An empty or doubtful result says why, as `mask add` does (never a silent "none").
            why = masks.mask_warnings(catalog, version_id)
            reasons = [why[c["uid"]] for c in masks.list_components(catalog, version_id)
                       if c["layer"] == name and c["uid"] in why]
            doubt = f" ({'; '.join(reasons)})" if reasons else ""
            if float(alpha.mean()) > 0.002:
                found.append(f"{kind} {100 * float((alpha > 0.5).mean()):.0f}%{doubt}")
                written.append(save_overlay(rgb, alpha, out_dir / f"{stem}_{kind}.png"))
            else:
                found.append(f"{kind} none{doubt}")
        say(f"  masks on {filename}: {', '.join(found)}")
    return written


def run_demo(catalog: Catalog, workdir: Path, say: Say = print) -> DemoReport:
    report = DemoReport()
    workdir = Path(workdir).resolve()
    quiet = Progress()

    # 1. Import the shipped sample photos.
    photos = workdir / "photos"
    copied = copy_samples(photos)
    result = import_photos(catalog, [photos], quiet).report
    say(f"1. imported {len(result.imported)} photos from {photos} "
        f"({len(result.duplicates)} already in the catalog, {len(result.skipped)} skipped)")
    report.imported = sorted(library.ids_for_paths(catalog, copied).values())

    # 2. AI masks: subject, sky and people, drawn over each photo.
    say("2. deriving subject, sky and people masks (overlays in overlays/)")
    report.overlays = mask_overlays(catalog, report.imported, ["subject", "sky", "person"], workdir / "overlays", say)

    # 3. A burst of one portrait: series detection groups it.
    burst = make_series(photos / "mpl_grace_hopper.jpg", workdir / "burst", frames=5)
    import_photos(catalog, [workdir / "burst"], quiet)
    by_path = library.ids_for_paths(catalog, burst)
    frames = [by_path[str(p)] for p in burst]
    report.series_ids = [x.id for x in sync_service.detect_series(catalog)]
    say(f"3. imported a {len(frames)}-frame burst; series detection found {len(report.series_ids)} series")

    # 4. Edit the first frame: face skin softened, background darkened, global warmth.
    first, rest = frames[0], frames[1:]
    add_masked_layer(catalog, first, "Face skin", "face-skin", {"texture": -30, "clarity": -10})
    add_masked_layer(catalog, first, "Background", "background", {"exposure": -0.6, "saturation": -20})
    editing.apply_edit(catalog, first, EditChange(adjustments={"temperature": 8, "contrast": 10}))
    say("4. edited frame 1: global warmth + masked 'Face skin' and 'Background' layers")

    # 5. Sync to the other frames: every AI mask is derived again on each frame.
    synced = sync_service.sync_edit(catalog, first, to_ids=rest,
                                    options=sync_service.parse_options("adjustments,masks"))
    states = [t.status for t in synced.targets]
    flagged = sum(1 for t in synced.targets for c in t.components if c.flag)
    say(f"5. synced to {len(rest)} frames: {', '.join(states)}; {flagged} component(s) flagged for review")

    # 6. Export the burst.
    out = workdir / "export"
    export_service.export(catalog, ids=frames, to=out,
                          settings=ExportSettings(long_edge=1024, template="{seq:02}_{name}"))
    report.exported = sorted(out.glob("*.jpg"))
    say(f"6. exported {len(report.exported)} JPEGs to {out}")
    return report
