"""The import pipeline: scan -> analyze (in worker processes) -> write the catalog.

Like beets' importer, the catalog is written only by the parent process, one
transaction per file, so an import killed at any point leaves a consistent
catalog; running it again picks up where it stopped (known files are recognised
by path + size + mtime without re-reading them, and by content hash otherwise).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maskroom.catalog import Catalog
from maskroom.catalog.database import lock_name
from maskroom.catalog.schema import Folder, Image, ImportProblem, ImportSession, PreviewCacheEntry, Sidecar, utcnow
from maskroom.engine.executor import Outcome, Work, make_executor
from maskroom.engine.imageio.decode import DecodeError
from maskroom.engine.imageio.previews import derivative_path
from maskroom.engine.importer.analyze import analyze
from maskroom.engine.importer.scan import Candidate, scan
from maskroom.core.files import sweep_tree_now_and_then
from maskroom.core.paths import display_path
from maskroom.core.values import clean_iptc
from maskroom.engine.xmp.apply import apply_read
from maskroom.core.progress import Progress


@dataclass
class ImportReport:
    session_id: int
    imported: list[int] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)  # catalogued paths whose file changed since: re-read
    interrupted: bool = False
    xmp_read: list[int] = field(default_factory=list)  # images that took metadata/edits from XMP
    xmp_unmapped: dict[int, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # one line each, naming the file

    def to_dict(self) -> dict:
        return {
            "session_id": self.session_id,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "moved": self.moved,
            "updated": self.updated,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "interrupted": self.interrupted,
            "xmp_read": self.xmp_read,
            "xmp_unmapped": self.xmp_unmapped,
            "warnings": self.warnings,
        }


def _folder(session, path: Path) -> Folder:
    key = str(path)
    folder = session.scalar(select(Folder).where(Folder.path == key))
    if folder is None:
        parent = session.scalar(select(Folder).where(Folder.path == str(path.parent))) if path.parent != path else None
        folder = Folder(path=key, parent_id=parent.id if parent else None)
        session.add(folder)
        session.flush()
    return folder


def _known_unchanged(catalog: Catalog, cand: Candidate) -> bool:
    """Same path, size and mtime as a catalogued image: nothing to read again."""
    try:
        st = cand.path.stat()
    except OSError:
        return False
    with catalog.session() as s:
        img = s.scalar(select(Image).where(Image.path == str(cand.path)))
        return img is not None and img.file_size == st.st_size and abs(img.mtime - st.st_mtime) < 1e-3


def _record(catalog: Catalog, session_id: int, info: dict, report: ImportReport, progress: Progress) -> None:
    md = info["metadata"]
    xmp = info.get("xmp")
    with catalog.session() as s:
        lock_name(s, "import")  # two imports of one folder: the second sees the first's rows
        existing = s.scalar(select(Image).where(Image.content_hash == info["hash"]))
        if existing is not None:
            if existing.path == info["path"]:
                report.duplicates.append(info["path"])
            elif not Path(existing.path).exists():
                # The same photo at a new place: follow it, keep its edits.
                existing.path = info["path"]
                existing.filename = Path(info["path"]).name
                existing.folder = _folder(s, Path(info["path"]).parent)
                existing.mtime = info["mtime"]
                existing.missing = False
                report.moved.append(existing.id)
            else:
                report.duplicates.append(info["path"])
            return
        changed = s.scalar(select(Image).where(Image.path == info["path"]))
        if changed is not None:
            _reread(s, catalog, changed, info)
            report.updated.append(changed.id)
            line = (f"{display_path(info['path'])}: changed since it was imported: previews and camera data re-read, "
                    "its edit kept (AI masks re-derive on the new pixels; check crops and brushes)")
            report.warnings.append(line)
            progress.message(line)
            return
        path = Path(info["path"])
        img = Image(
            folder=_folder(s, path.parent), filename=path.name, path=str(path), import_session_id=session_id,
            copyright=clean_iptc("copyright", md.copyright), creator=clean_iptc("creator", md.artist),
            **_file_fields(info),
        )
        s.add(img)
        for sc in info["sidecars"]:
            if s.scalar(select(Sidecar).where(Sidecar.path == sc["path"])) is None:
                img.sidecars.append(Sidecar(path=sc["path"], role="jpeg", format=sc["format"],
                                            content_hash=sc["hash"], file_size=sc["size"]))
        s.flush()
        _add_derivatives(s, catalog, img, info)
        if xmp is not None and xmp.found:
            apply_read(s, img, xmp, label="Import (XMP)")
            report.xmp_read.append(img.id)
            if xmp.unmapped:
                report.xmp_unmapped[img.id] = xmp.unmapped
        report.imported.append(img.id)
    for line in (xmp.warnings if xmp is not None else []):
        report.warnings.append(line)
        progress.message(line)


def _file_fields(info: dict) -> dict:
    """The Image columns the file itself decides (its bytes, pixels and camera data), as
    the analysis read them: set on a new photo, and again on one whose file changed."""
    md = info["metadata"]
    return dict(
        file_size=info["size"], mtime=info["mtime"], content_hash=info["hash"], format=info["format"],
        width=info["width"], height=info["height"], orientation=md.orientation, capture_time=md.capture_time,
        camera_make=md.camera_make, camera_model=md.camera_model, lens=md.lens, focal_length=md.focal_length,
        aperture=md.aperture, shutter=md.shutter, iso=md.iso, exposure_bias=md.exposure_bias,
        gps_lat=md.gps_lat, gps_lon=md.gps_lon, gps_alt=md.gps_alt, phash=info["phash"],
        features=info["features"], exif=md.tags)


def _reread(s, catalog: Catalog, img: Image, info: dict) -> None:
    """A catalogued original whose file now holds other content (retouched elsewhere,
    rewritten by a converter): the photo's record follows the file, as Lightroom's
    folder sync does.  What the file says (size, pixels, camera data) is re-read;
    what the photographer gave it here (edit, rating, keywords, IPTC text) stays.
    Previews and mask rasters are keyed by the content hash, so the old ones are
    simply no longer found."""
    for name, value in _file_fields(info).items():
        setattr(img, name, value)
    img.missing = False
    for entry in s.scalars(select(PreviewCacheEntry).where(PreviewCacheEntry.image_id == img.id)):
        s.delete(entry)
    s.flush()
    _add_derivatives(s, catalog, img, info)


def _add_derivatives(s, catalog: Catalog, img: Image, info: dict) -> None:
    for kind in ("thumb", "preview"):
        dp = derivative_path(catalog.cache_dir, kind, info["hash"])
        w, h = info["derivatives"][kind]
        s.add(PreviewCacheEntry(image_id=img.id, kind=kind, key=info["hash"],
                                path=str(dp.relative_to(catalog.cache_dir)), width=int(w), height=int(h)))


def _problem(catalog: Catalog, session_id: int, path: str, reason: str, report: ImportReport,
             progress: Progress) -> None:
    report.skipped.append((path, reason))
    with catalog.session() as s:
        s.add(ImportProblem(session_id=session_id, path=path, reason=reason))
    progress.message(f"{path}: {reason}")


def _error_reason(exc: BaseException) -> str:
    if isinstance(exc, DecodeError):
        return exc.reason
    return f"{type(exc).__name__}: {exc}"


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def run_import(catalog: Catalog, paths, *, recursive: bool = False, copy_to=None, template: str | None = None,
               jobs: int | None = None, progress: Progress | None = None,
               cluster: str | None = None) -> ImportReport:
    progress = progress or Progress()
    paths = [Path(p) for p in paths]
    with catalog.session() as s:
        sess = ImportSession(sources=[display_path(p) for p in paths],
                             options={"recursive": recursive, "copy_to": str(copy_to) if copy_to else None,
                                      "template": template})
        s.add(sess)
        s.flush()
        session_id = sess.id
    report = ImportReport(session_id)
    sweep_tree_now_and_then(catalog.cache_dir)  # temp files of a killed earlier run
    found = scan(paths, recursive)
    for path, reason in found.problems:
        _problem(catalog, session_id, path, reason, report, progress)
    todo = []
    for cand in found.candidates:
        if not copy_to and _known_unchanged(catalog, cand):
            report.duplicates.append(str(cand.path))
        else:
            todo.append(cand)
    progress.start(len(found.candidates), "Importing")
    if len(found.candidates) > len(todo):
        progress.advance(len(found.candidates) - len(todo), "already in catalog")
    args = [(str(c.path), [str(x) for x in c.sidecars], str(catalog.cache_dir),
             str(copy_to) if copy_to else None, template) for c in todo]
    jobs = jobs or default_jobs()
    status = "completed"
    # Workers only read files; the catalog is written here, one transaction per file.
    executor = make_executor(catalog, jobs if len(args) > 1 else 1, cluster)
    try:
        with executor:
            for out in executor.map(Work(_analyze), args, progress):
                _one(catalog, session_id, out, report, progress)
        if executor.cancelled:
            status = "interrupted"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except BaseException:
        status = "failed"  # never "completed" for a run that died
        raise
    finally:
        report.interrupted = status != "completed"
        with catalog.session() as s:
            sess = s.get(ImportSession, session_id)
            sess.status = status
            sess.finished_at = utcnow()
            sess.imported = len(report.imported) + len(report.moved)
            sess.duplicates = len(report.duplicates)
            sess.skipped = len(report.skipped)
    return report


def _analyze(ctx, a: tuple) -> dict:
    """One file, read where this worker sees it; the paths reported are the catalog's."""
    path, sidecars, cache_dir, copy_to, template = a
    local = ctx.paths.local
    info = analyze(local(path), [local(x) for x in sidecars], local(cache_dir), copy_to and local(copy_to), template)
    if ctx.paths:
        info["path"] = ctx.paths.shared(info["path"])
        for sc in info["sidecars"]:
            sc["path"] = ctx.paths.shared(sc["path"])
    return info


def _one(catalog, session_id, out: Outcome, report, progress) -> None:
    path = out.item[0]
    if out.ok:
        try:
            _record(catalog, session_id, out.value, report, progress)
        except IntegrityError:  # its path is catalogued with other content (changed since)
            _problem(catalog, session_id, path, "already in the catalog with other content", report, progress)
    else:  # one bad file never stops the batch
        _problem(catalog, session_id, path, _error_reason(out.error), report, progress)
    progress.advance(1, path)
