"""Fault injection: SIGKILL a `maskroom` process at a random moment, then check nothing was lost.

One trial of an area (import, edit, sync, export, refresh, create):

1. a fresh work folder from a prepared template (catalog + originals);
2. a child process runs the area's `maskroom` commands in-process (it prints "ready"
   once its imports are done, so the kill lands in the work, not in Python's start-up);
3. after a random delay within the area's measured run time it is killed (SIGKILL,
   its whole process group);
4. the catalog must open as is and pass its checks (integrity, orphans, history
   numbering, every version's rows equal to its current history step), the
   originals must be byte-identical, every step the child reported as done
   (printed after its commit) must be there, and running the commands again must
   finish the work.

``lost`` counts trials where any of that failed: it must be 0.  The pytest suite
(tests/reliability/test_kill_points.py) runs a small sample; bench/reliability.py
runs 20+ kills per area and prints the table.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from maskroom.catalog import Catalog, checks, edits
from maskroom.catalog.schema import EditVersion, Image, MaskRaster
from maskroom.core.files import verify_image
from maskroom.engine.masks.cache import read_alpha
from maskroom.core.recipe import Recipe

AREAS = ("import", "edit", "sync", "export", "refresh", "create")
CHILD = """
import importlib, json, pkgutil, sys
import maskroom.services
from maskroom.cli import main
# Load what the commands load on first use, so the kill lands in their work.
for m in pkgutil.iter_modules(maskroom.services.__path__):
    importlib.import_module("maskroom.services." + m.name)
print("ready", flush=True)
for argv in json.loads(sys.argv[1]):
    try:
        main.main(argv, standalone_mode=False)
        print("ok", flush=True)
    except SystemExit as exc:
        print("ok" if not exc.code else f"failed: exit {exc.code}", flush=True)
    except Exception as exc:
        print(f"failed: {type(exc).__name__}: {exc}", flush=True)
print("done", flush=True)
"""
STEP = re.compile(r"^image (\d+) \(version (\d+)\): step (\d+) (.*)$")
EDIT_KEYS = ("exposure", "contrast", "highlights", "shadows", "whites", "blacks", "clarity", "saturation")
PHOTOS = 10
EDITS = 24


@dataclass
class Trial:
    area: str
    delay: float
    finished: bool = False  # the child ended before the kill
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> bool:
        return bool(self.problems)


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def failures(lines: list[str]) -> list[str]:
    return [x for x in lines if x.startswith("failed:")]


def run_child(commands: list[list[str]], delay: float | None, env: dict | None = None) -> tuple[list[str], bool, float]:
    """Run ``commands`` in a child; SIGKILL it ``delay`` s after it is ready (None: let it end).
    Returns (the lines it printed, whether it got to the end, seconds from ready to its end)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(commands)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True,
                            env={**os.environ, **(env or {})})
    lines: list[str] = []
    ready = threading.Event()
    stamps = {}

    def read():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            stamps.setdefault(line.strip(), time.monotonic())
            if line.startswith("ready"):
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    t0 = time.monotonic()
    try:
        ready.wait(120)
        if delay is None:
            proc.wait(600)
        else:
            try:
                proc.wait(delay)
            except subprocess.TimeoutExpired:
                pass
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(30)
    # The work ends at "done"; the interpreter's exit after it is no part of it.
    took = stamps.get("done", time.monotonic()) - stamps.get("ready", t0)
    return lines, "done" in lines, took


def version_problems(cat: Catalog) -> list[str]:
    """Every version's layer rows must be its current history step's recipe, whole."""
    out = []
    with cat.read_session() as s:
        for v in s.scalars(select(EditVersion)):
            current = edits.load_recipe(s, v.id).digest()
            step = next((h for h in edits.history(s, v.id) if h.seq == v.history_position), None)
            if step is None:
                out.append(f"version {v.id}: no history step at its position {v.history_position}")
            elif Recipe.from_dict(step.recipe).digest() != current or v.recipe_hash != current:
                out.append(f"version {v.id}: its rows are not its current step's recipe (half written)")
    return out


def catalog_problems(path: Path) -> list[str]:
    """What is wrong with the catalog at ``path`` as a kill left it (opened without upgrading)."""
    try:
        with Catalog.open(path, upgrade=False, create=False) as cat:
            if cat.current_revision() != cat.head_revision():
                return [f"schema at {cat.current_revision()}, not {cat.head_revision()}"]
            found = [f.message for f in checks.integrity(cat) + checks.orphans(cat)]
            return found + version_problems(cat)
    except Exception as exc:  # anything that stops it opening is a loss
        return [f"cannot open: {type(exc).__name__}: {exc}"]


# -- areas --------------------------------------------------------------------
class Bench:
    """Templates for every area, made once in ``root``; ``trial(area, rng)`` runs one kill."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.photos = self.root / "originals"
        self.frames = self.root / "frames"
        self._make_originals()
        self.originals = tree_digest(self.photos)
        self.frame_digest = tree_digest(self.frames)
        self.templates = {"import": self._template_empty(), "edit": self._template_edit(),
                          "sync": self._template_sync(), "export": self._template_sync(),
                          "refresh": self._template_refresh()}
        self.windows: dict[str, float] = {}
        self._n = 0

    # templates
    def _make_originals(self) -> None:
        import numpy as np
        from PIL import Image as PILImage
        from sync_frames import portrait_series

        if not self.photos.exists():
            self.photos.mkdir()
            rng = np.random.default_rng(3)
            for i in range(PHOTOS):  # distinct content: the importer dedupes by hash
                PILImage.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(
                    self.photos / f"IMG_{i:03d}.jpg", quality=90)
        if not self.frames.exists():
            portrait_series(self.frames)

    def _template_empty(self) -> Path:
        path = self.root / "templates" / "empty" / "catalog.sqlite"
        Catalog.create(path).close()
        return path

    def _template_edit(self) -> Path:
        from develop_support import add_image

        path = self.root / "templates" / "edit" / "catalog.sqlite"
        with Catalog.create(path) as cat:
            image_id = add_image(cat, self.photos / "IMG_000.jpg")
            with cat.session() as s:
                edits.get_version(s, image_id)
        return path

    def _template_sync(self) -> Path:
        from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition
        from maskroom.engine.importer import run_import

        path = self.root / "templates" / "sync" / "catalog.sqlite"
        if path.exists():  # (export and refresh start from it too)
            return path
        with Catalog.create(path) as cat:
            run_import(cat, [self.frames], jobs=1)
            with cat.session() as s:
                ids = list(s.scalars(select(Image.id).order_by(Image.filename)))
                vid = edits.get_version(s, ids[0]).id
                edits.save_recipe(s, vid, Recipe(layers=[
                    Layer("Global", adjustments={"exposure": 0.3}),
                    Layer("Face", adjustments={"exposure": 0.5}, mask=MaskDefinition([
                        MaskComponent("radial", params={"cx": 0.5, "cy": 0.36, "rx": 0.12, "ry": 0.16})]))]),
                    "source edit")
        return path

    def _template_refresh(self) -> Path:
        """The frames, each with an AI (subject) layer not derived yet: refresh runs the model."""
        from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition

        path = self.root / "templates" / "refresh" / "catalog.sqlite"
        if path.exists():
            return path
        shutil.copytree(self._template_sync().parent, path.parent)
        with Catalog.open(path, upgrade=False, create=False) as cat, cat.session() as s:
            for image_id in s.scalars(select(Image.id).order_by(Image.id)):
                vid = edits.get_version(s, image_id).id
                edits.save_recipe(s, vid, Recipe(layers=[Layer("Global"), Layer("Subject", mask=MaskDefinition([
                    MaskComponent("subject")]))]), "subject layer")
        return path

    def _fresh(self, area: str) -> Path:
        self._n += 1
        work = self.root / "trials" / f"{area}-{self._n}"
        work.mkdir(parents=True)
        dest = work / "catalog.sqlite"
        if area in self.templates:
            shutil.copy2(self.templates[area], dest)
        return dest

    def commands(self, area: str, db: Path) -> list[list[str]]:
        c = ["--catalog", str(db)]
        if area == "import":
            return [c + ["import", str(self.photos), "--jobs", "1"]]
        if area == "edit":
            return [c + ["edit", "1", "--set", f"{EDIT_KEYS[n % len(EDIT_KEYS)]}={n % 7 + 1}"] for n in range(EDITS)]
        if area == "sync":
            return [c + ["sync", "1", *[x for t in range(2, len(os.listdir(self.frames)) + 1) for x in ("--to", str(t))]]]
        if area == "export":
            return [c + ["export", "--all", "--to", str(db.parent / "out"), "--jobs", "1"]]
        if area == "refresh":
            return [c + ["mask", "refresh", "--all", "--jobs", "1"]]
        if area == "create":
            return [["catalog", "create", str(db)]]
        raise ValueError(area)

    def window(self, area: str) -> float:
        """How long the area's commands run once ready: the quicker of two uninterrupted
        runs (the first pays for cold caches), so most kills land inside the work."""
        if area not in self.windows:
            times = []
            for _ in range(2):
                db = self._fresh(area)
                lines, done, took = run_child(self.commands(area, db), None)
                assert done and not failures(lines), f"{area}: the uninterrupted run failed: {lines[-3:]}"
                assert catalog_problems(db) == [], f"{area}: the uninterrupted run left problems"
                times.append(took)
            self.windows[area] = max(min(times), 0.05)
        return self.windows[area]

    def trial(self, area: str, rng: random.Random) -> Trial:
        delay = rng.uniform(0.0, self.window(area))
        db = self._fresh(area)
        before = self._acknowledged_before(area, db)
        lines, finished, _ = run_child(self.commands(area, db), delay)
        t = Trial(area, delay, finished)
        if area == "create" and not db.exists():
            if finished:
                t.problems.append("create reported done but there is no catalog")
        else:
            t.problems += catalog_problems(db)
        if tree_digest(self.photos) != self.originals or tree_digest(self.frames) != self.frame_digest:
            t.problems.append("an original changed")
        if not t.problems:
            t.problems += self._nothing_lost(area, db, lines, before)
        return t

    def _acknowledged_before(self, area: str, db: Path) -> int:
        return 1 if area == "edit" else 0  # the template's Import step

    def _nothing_lost(self, area: str, db: Path, lines: list[str], before: int) -> list[str]:
        """Every reported step is there, and running the commands again finishes the work."""
        out = []
        if area == "edit":
            acked = [(int(m.group(3)), m.group(4)) for m in map(STEP.match, lines) if m]
            with Catalog.open(db, upgrade=False, create=False) as cat, cat.read_session() as s:
                steps = {h.seq: h.label for h in edits.history(s, 1)}
            out += [f"acknowledged step {seq} {label!r} is gone" for seq, label in acked if steps.get(seq) != label]
            if len(steps) < before + len(acked):
                out.append(f"{len(steps)} steps for {len(acked)} acknowledged edits")
            return out
        if area == "create":
            return out  # a whole catalog (checked above), or none and nothing to finish
        if area == "export":  # what a killed export left under a final name must be a whole image
            out += [f"export: {p.name} is not a whole image ({exc})" for p, exc in _bad_images(db.parent / "out")]
        lines, done, _ = run_child(self.commands(area, db), None)
        if not done or failures(lines):
            out.append(f"running it again did not finish: {failures(lines) or lines[-2:]}")
        with Catalog.open(db, upgrade=False, create=False) as cat, cat.read_session() as s:
            if area == "import":
                n = len(list(s.scalars(select(Image.id))))
                if n != PHOTOS:
                    out.append(f"{n} photos catalogued after the re-run, not {PHOTOS}")
            if area == "export":
                files = sorted(p.name for p in (db.parent / "out").iterdir())
                photos = len(list(s.scalars(select(Image.id))))
                if len(files) != photos:  # no temp file left, none twice (a re-export is recognised)
                    out.append(f"export: {len(files)} files after the re-run for {photos} photos: {files}")
                out += [f"export: {p.name} is not a whole image ({exc})" for p, exc in _bad_images(db.parent / "out")]
            if area == "refresh":
                rows = list(s.scalars(select(MaskRaster)))
                if len(rows) < len(list(s.scalars(select(Image.id)))):
                    out.append(f"refresh: {len(rows)} rasters after the re-run")
                for r in rows:
                    if r.path and read_alpha(cat.cache_dir / r.path) is None:
                        out.append(f"refresh: raster {r.path} does not decode")
            if area == "sync":
                for image_id in s.scalars(select(Image.id).where(Image.id != 1)):
                    recipe = edits.load_recipe(s, edits.get_version(s, image_id).id)
                    if recipe.layer("Face") is None:
                        out.append(f"image {image_id}: not synced after the re-run")
        out += catalog_problems(db)
        return out


def _bad_images(folder: Path) -> list[tuple[Path, str]]:
    """Files under their final names that are not whole images (a killed writer's hidden
    temp file is not one: the next export sweeps it)."""
    bad = []
    for p in sorted(folder.glob("[!.]*")) if folder.exists() else []:
        try:
            verify_image(p)
        except Exception as exc:  # noqa: BLE001  (any reason it is not a whole image)
            bad.append((p, str(exc)))
    return bad


def run_trials(root: Path, areas=AREAS, trials: int = 20, seed: int = 0) -> dict[str, list[Trial]]:
    rng = random.Random(seed)
    bench = Bench(root)
    return {area: [bench.trial(area, rng) for _ in range(trials)] for area in areas}
