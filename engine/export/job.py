"""The batch export: settings and presets, planning names and conflicts, the workers.

Planning happens in the calling process, before any pixel is rendered: every output
name is decided there (template, uniqueness inside the batch, --on-conflict against
files already on disk), so parallel workers never race for a name.  Workers render
one version each (``render_version`` of the develop engine), convert to the output
colour space, sharpen, write the file with its ICC profile and metadata.  With
``jobs > 1`` they are separate processes that each open the catalog themselves.

An image that fails is reported as ``PATH: reason`` and the batch goes on.  Originals
are only read; a target that is any catalogued original is never overwritten.

Each export folder's files are remembered (in the catalog's cache, not in the folder)
with a digest of what made them: the original's content, the recipe and the export
settings.  Exporting an unchanged photo again to the same place finds its own earlier
file and skips it (``unique`` and ``skip`` modes) instead of writing ``name-1.jpg``.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import cv2
from sqlalchemy import select

from maskroom.catalog.edits import get_version, load_recipe
from maskroom.catalog.library import camera_name
from maskroom.catalog.schema import EditVersion, Image, Preset
from maskroom.core.errors import InvalidValue
from maskroom.core.files import atomic_write_text, sweep_stale_temps
from maskroom.core.progress import Progress
from maskroom.engine.develop.render import render_version, to_output
from maskroom.engine.executor import Work, WorkerLost, make_executor
from maskroom.engine.export.metadata import METADATA_MODES, ImageMetadata, metadata_from_image, write_metadata
from maskroom.engine.export.naming import (
    NameFields,
    TemplateError,
    check_template,
    ensure_inside,
    relative_name,
    with_counter,
)
from maskroom.engine.export.sharpen import SHARPEN_MODES, sharpen
from maskroom.engine.export.writers import EXTENSIONS, ExportFormatError, check_format, write_image

COLORSPACES = ("srgb", "display-p3", "adobe-rgb")
CONFLICT_MODES = ("unique", "overwrite", "skip")
PRESET_KIND = "export"


class ExportError(InvalidValue):
    """Settings or a selection that cannot be exported; the message says why."""


@dataclass(frozen=True)
class ExportSettings:
    format: str = "jpeg"
    bits: int = 8
    quality: int = 90
    long_edge: int | None = None  # None: full size
    colorspace: str = "srgb"
    sharpen: str = "none"
    template: str = "{name}"
    on_conflict: str = "unique"
    metadata: str = "all"
    copyright: str | None = None  # wins over the image's own, when set
    creator: str | None = None

    def validate(self) -> ExportSettings:
        try:
            check_format(self.format, int(self.bits), int(self.quality))
            check_template(self.template)
        except (ExportFormatError, TemplateError) as exc:
            raise ExportError(str(exc)) from None
        for name, value, allowed in (
            ("colorspace", self.colorspace, COLORSPACES),
            ("sharpen", self.sharpen, tuple(SHARPEN_MODES)),
            ("on-conflict", self.on_conflict, CONFLICT_MODES),
            ("metadata", self.metadata, METADATA_MODES),
        ):
            if value not in allowed:
                raise ExportError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if self.long_edge is not None and not 16 <= int(self.long_edge) <= 65500:
            raise ExportError(f"long edge must be 16..65500 pixels, not {self.long_edge}")
        return self

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ExportSettings:
        return cls().merged(data)

    def merged(self, overrides: dict) -> ExportSettings:
        """These settings with the non-None values of ``overrides`` on top."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ExportError(f"unknown export setting(s): {', '.join(unknown)}")
        values = {k: v for k, v in overrides.items() if v is not None}
        for key in ("bits", "quality", "long_edge"):
            if key in values:
                try:
                    values[key] = int(values[key])
                except (TypeError, ValueError):
                    raise ExportError(f"{key} must be a whole number, not {values[key]!r}") from None
        if "format" in values:
            values["format"] = {"jpg": "jpeg", "tif": "tiff"}.get(str(values["format"]).lower(), values["format"])
        return replace(self, **values)


# -- presets ------------------------------------------------------------------
def save_preset(session, name: str, values: dict) -> Preset:
    """Store the given settings under ``name`` (replacing one of that name)."""
    name = name.strip()
    if not name:
        raise ExportError("preset name is empty")
    merged = ExportSettings().merged(values).validate()
    # Only the given keys, in their normalised form (bits 16 not "16", jpg -> jpeg).
    body = {k: getattr(merged, k) for k, v in values.items() if v is not None}
    preset = session.scalar(select(Preset).where(Preset.kind == PRESET_KIND, Preset.name == name))
    if preset is None:
        preset = Preset(kind=PRESET_KIND, name=name, body=body)
        session.add(preset)
    else:
        preset.body = body
    session.flush()
    return preset


def load_preset(session, name: str) -> dict:
    preset = session.scalar(select(Preset).where(Preset.kind == PRESET_KIND, Preset.name == name))
    if preset is None:
        raise ExportError(f"no export preset named {name!r} (see `maskroom export-preset list`)")
    return dict(preset.body or {})


def list_presets(session) -> list[Preset]:
    return list(session.scalars(select(Preset).where(Preset.kind == PRESET_KIND).order_by(Preset.name)))


def delete_preset(session, name: str) -> None:
    preset = session.scalar(select(Preset).where(Preset.kind == PRESET_KIND, Preset.name == name))
    if preset is None:
        raise ExportError(f"no export preset named {name!r}")
    session.delete(preset)


def resolve_settings(session, preset: str | None, overrides: dict) -> ExportSettings:
    """Defaults, then the preset's values, then the flags given on the command line."""
    base = ExportSettings()
    if preset:
        base = base.merged(load_preset(session, preset))
    return base.merged(overrides).validate()


# -- planning -------------------------------------------------------------------
@dataclass(frozen=True)
class ExportTask:
    seq: int
    version_id: int
    image_id: int
    source: str  # the original's path, for messages
    target: str  # absolute output path
    action: str = "write"  # write | skip | fail
    error: str | None = None  # why, for "fail"
    digest: str = ""  # what the file is made from (export_digest)
    out_dir: str = ""  # the export folder whose record remembers the file


@dataclass
class ExportReport:
    exported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source path, reason)
    seconds: float = 0.0
    interrupted: bool = False  # Ctrl-C or progress.cancelled(): the rest was not exported

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        rate = len(self.exported) / self.seconds if self.seconds > 0 else 0.0
        return (
            f"exported {len(self.exported)}, skipped {len(self.skipped)}, failed {len(self.failed)} "
            f"in {self.seconds:.1f} s ({rate:.1f} images/s)" + (" - interrupted" if self.interrupted else "")
        )


def master_version_ids(session, image_ids: list[int], report: ExportReport | None = None) -> list[int]:
    """Each image's master version (created if the image was never developed)."""
    out = []
    for image_id in image_ids:
        if session.get(Image, image_id) is None:
            if report is None:
                raise ExportError(f"id {image_id}: no such image")
            report.failed.append((f"id {image_id}", "no such image"))
            continue
        out.append(get_version(session, image_id).id)
    return out


def _name_fields(version: EditVersion, seq: int, ext: str) -> NameFields:
    image = version.image
    return NameFields(
        name=Path(image.filename).stem,
        id=image.id,
        seq=seq,
        date=image.capture_time,
        rating=image.rating or 0,
        camera=camera_name(image.camera_make, image.camera_model),
        version=version.name or "",
        ext=ext,
    )


def export_digest(session, version: EditVersion, settings: ExportSettings) -> str:
    """What an exported file is made of: the original's content, the recipe as it looks
    (mask component uids and derived state left out: a re-synced or re-applied edit with
    the same values renders the same), the settings that change pixels or metadata (the
    conflict mode does not)."""
    recipe = load_recipe(session, version.id).to_dict()
    for layer in recipe["layers"]:
        for comp in (layer.get("mask") or {}).get("components", []):
            comp.pop("uid", None)
            comp.pop("derived", None)
    look = {k: v for k, v in settings.to_dict().items() if k != "on_conflict"}
    text = json.dumps([version.image.content_hash, recipe, look], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# -- what was exported where ------------------------------------------------------
def _records_path(cache_dir: Path, out_dir: Path) -> Path:
    key = hashlib.sha256(str(Path(out_dir).resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return Path(cache_dir) / "exports" / f"{key}.json"


def _journal_path(cache_dir: Path, out_dir: Path) -> Path:
    return _records_path(cache_dir, out_dir).with_suffix(".log")


def load_records(cache_dir: Path, out_dir: Path) -> dict[str, dict]:
    """{file path: {digest, size, mtime_ns}} of the files earlier exports wrote to out_dir:
    the last saved record, then the journal lines a batch appended after it (one per file
    written, so a killed batch remembers every file it finished)."""
    try:
        data = json.loads(_records_path(cache_dir, out_dir).read_text(encoding="utf-8"))
        records = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        records = {}  # derived state: without it a re-export only writes a copy
    try:
        lines = _journal_path(cache_dir, out_dir).read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # the line a kill cut short
        if isinstance(entry, dict):
            records.update(entry)
    return records


def journal_record(cache_dir: Path, out_dir: Path, path: str, record: dict) -> None:
    """Append one written file's record (flushed and fsynced: a kill right after keeps it)."""
    journal = _journal_path(cache_dir, out_dir)
    try:
        journal.parent.mkdir(parents=True, exist_ok=True)
        with open(journal, "a", encoding="utf-8") as f:
            f.write(json.dumps({path: record}) + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        pass  # as save_records: the export itself succeeded


def save_records(cache_dir: Path, out_dir: Path, records: dict[str, dict]) -> None:
    # Entries whose file is gone are dropped, so the record never outgrows the folder.
    live = {p: r for p, r in records.items() if os.path.exists(p)}
    try:
        atomic_write_text(_records_path(cache_dir, out_dir), json.dumps(live, sort_keys=True))
        _journal_path(cache_dir, out_dir).unlink(missing_ok=True)  # folded into the record
    except OSError:
        pass  # a full cache disk must not fail an export that succeeded


def _record_for(path: str, digest: str) -> dict | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"digest": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _is_our_export(path: Path, digest: str, records: dict[str, dict]) -> bool:
    """``path`` is the untouched file an earlier export made from the same digest."""
    rec = records.get(str(path))
    return rec is not None and rec.get("digest") == digest and _record_for(str(path), digest) == rec


def plan_export(session, version_ids: list[int], out_dir: Path, settings: ExportSettings,
                records: dict[str, dict] | None = None) -> list[ExportTask]:
    """Decide every output path now: template, in-batch uniqueness, conflicts on disk.

    ``records`` (``load_records``) lets an unchanged photo find its own earlier export.
    """
    out_dir = Path(out_dir)
    records = records or {}
    taken: set[str] = set()  # lower-cased: case-insensitive file systems
    # Originals that live under the export folder: never a target, whatever the mode.
    root = str(out_dir.resolve())
    originals = set(session.scalars(select(Image.path).where(Image.path.startswith(root + os.sep, autoescape=True))))
    tasks = []
    for seq, version_id in enumerate(version_ids, start=1):
        version = session.get(EditVersion, version_id)
        if version is None:
            raise ExportError(f"version {version_id}: no such version")
        image = version.image
        digest = export_digest(session, version, settings)
        rel = relative_name(settings.template, _name_fields(version, seq, settings.extension), settings.extension)
        try:
            target = ensure_inside(out_dir, rel)
        except ValueError as exc:  # a symlink under --to pointing elsewhere
            tasks.append(ExportTask(seq, version_id, image.id, image.path, str(out_dir / rel), "fail", str(exc)))
            continue

        def clashes(p: Path, existing_ok: bool) -> bool:
            if str(p).lower() in taken:
                return True
            if p.is_dir() or str(p) in originals:
                return True
            return p.exists() and not existing_ok

        action = "write"
        if settings.on_conflict == "skip" and target.is_file() and str(target).lower() not in taken:
            action = "skip"
        elif clashes(target, existing_ok=settings.on_conflict == "overwrite"):
            n = 0
            candidate = target
            # Not a copy of our own unchanged earlier export (name.jpg or the name-N.jpg
            # it got then): that one is already there.
            while clashes(candidate, existing_ok=False):
                if settings.on_conflict == "unique" and str(candidate).lower() not in taken \
                        and _is_our_export(candidate, digest, records):
                    action = "skip"
                    break
                n += 1
                candidate = with_counter(target, n)
            target = candidate
        taken.add(str(target).lower())
        tasks.append(ExportTask(seq, version_id, image.id, image.path, str(target), action, digest=digest,
                                out_dir=str(out_dir)))
    return tasks


# -- running -------------------------------------------------------------------
def run_export(
    catalog,
    version_ids: list[int],
    out_dir: Path,
    settings: ExportSettings,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    report: ExportReport | None = None,
    cluster: str | None = None,
) -> ExportReport:
    """Export the versions; failures are collected in the report, never raised."""
    progress = progress or Progress()
    report = report or ExportReport()
    settings.validate()
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out_dir}: cannot create the export folder: {exc.strerror or exc}") from None
    cache_dir = catalog.cache_dir
    records = load_records(cache_dir, out_dir)
    with catalog.session() as s:
        tasks = plan_export(s, version_ids, out_dir, settings, records)
    # Hidden temp files a killed export left in these folders go now.
    for folder in {Path(t.target).parent for t in tasks} | {out_dir}:
        sweep_stale_temps(folder)
    progress.start(len(tasks), "Exporting")

    def record(task: ExportTask, error: str | None) -> None:
        if error is None:
            (report.skipped if task.action == "skip" else report.exported).append(task.target)
            if task.action == "write" and (rec := _record_for(task.target, task.digest)) is not None:
                records[task.target] = rec  # (journalled by the writer, before the rename)
        else:
            report.failed.append((task.source, error))
            progress.message(f"{task.source}: {error}")
        progress.advance(1, Path(task.target).name)

    todo = []
    for task in tasks:
        if task.action == "skip":
            record(task, None)
        elif task.action == "fail":
            record(task, task.error)
        else:
            todo.append(task)

    executor = make_executor(catalog, (jobs or 1) if len(todo) > 1 else 1, cluster)  # None: one job
    try:
        with executor:
            for out in executor.map(Work(_export_item, catalog.location, _export_init, (settings,)), todo, progress):
                if isinstance(out.error, WorkerLost):
                    record(out.item, "export worker crashed (the decoder may have died on this file)")
                else:
                    record(out.item, out.value if out.ok else _reason(out.error))
        report.interrupted = executor.cancelled
    except KeyboardInterrupt:
        # Running exports finished their file (the writer removes a half-written one);
        # the queued ones were dropped.
        report.interrupted = True
    finally:
        if report.exported:
            save_records(cache_dir, out_dir, records)
    report.seconds = time.perf_counter() - t0
    return report


def _export_init(ctx, settings: ExportSettings) -> ExportSettings:
    return settings


def _export_item(ctx, task: ExportTask) -> str | None:
    return export_one(ctx.catalog, replace(task, target=ctx.paths.local(task.target)), ctx.state)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


def export_one(catalog, task: ExportTask, settings: ExportSettings) -> str | None:
    """Render and write one version; returns None on success or the reason it failed."""
    try:
        with catalog.session() as s:
            version = s.get(EditVersion, task.version_id)
            if version is None:
                return "version no longer in the catalog"
            meta = metadata_from_image(version.image, copyright=settings.copyright, creator=settings.creator)
        pixels, icc = render_for_export(catalog, task.version_id, settings)
        write_image(
            Path(task.target),
            pixels,
            settings.format,
            bits=settings.bits,
            icc=icc,
            quality=settings.quality,
            before_rename=lambda tmp: _finish(catalog, task, tmp, meta, settings, pixels.shape),
        )
        return None
    except Exception as exc:
        # Decoders put the path into their messages (sometimes twice, nested); the
        # line we print starts with it already.
        reason = _reason(exc).replace(task.source + ": ", "").strip()
        return reason or type(exc).__name__


def _finish(catalog, task: ExportTask, tmp: Path, meta, settings: ExportSettings, shape) -> None:
    """The last steps before the file gets its name: its metadata, then its record in the
    folder's journal.  The rename keeps the file's size and mtime, so the record already
    fits the final file; a kill between the two leaves a record of a file that is not
    there (ignored), never a finished file the next export does not recognise."""
    write_metadata(tmp, meta, settings.metadata, settings.colorspace, size=(shape[1], shape[0]), fmt=settings.format)
    if task.out_dir and (rec := _record_for(str(tmp), task.digest)) is not None:
        journal_record(catalog.cache_dir, Path(task.out_dir), task.target, rec)


def render_for_export(catalog, version_id: int, settings: ExportSettings):
    """The version's pixels, output-encoded and sharpened, plus the profile to embed."""
    linear = render_linear(catalog, version_id, settings.long_edge)
    pixels, icc = to_output(linear, colorspace=settings.colorspace, bits=settings.bits)
    return sharpen(pixels, settings.sharpen), icc


def render_linear(catalog, version_id: int, long_edge: int | None):
    """The version at full quality with its long edge exactly ``long_edge`` (never enlarged).

    The develop engine scales the *source* to a long edge and crops afterwards, so a
    cropped version comes out smaller than asked: render again from a source scaled up
    by the missing ratio, then bring the result to the exact size.
    """

    result = render_version(catalog, version_id, scale="full", long_edge=long_edge)
    linear = result.linear
    if not long_edge:
        return linear
    got = max(linear.shape[:2])
    if got < long_edge:
        source_edge = int(math.ceil(long_edge * long_edge / got)) + 2
        bigger = render_version(catalog, version_id, scale="full", long_edge=source_edge).linear
        if max(bigger.shape[:2]) > got:  # else the original is simply smaller: keep it
            linear = bigger
    h, w = linear.shape[:2]
    if max(h, w) > long_edge:
        s = long_edge / max(h, w)
        size = (max(1, round(w * s)), max(1, round(h * s)))
        linear = cv2.resize(linear, size, interpolation=cv2.INTER_AREA)
    return linear


__all__ = [
    "COLORSPACES",
    "CONFLICT_MODES",
    "ExportError",
    "ExportReport",
    "ExportSettings",
    "ExportTask",
    "ImageMetadata",
    "delete_preset",
    "export_one",
    "list_presets",
    "load_preset",
    "master_version_ids",
    "plan_export",
    "resolve_settings",
    "run_export",
    "save_preset",
]
