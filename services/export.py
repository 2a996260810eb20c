"""Export use cases (``maskroom export|export-preset`` and the app's export dialog)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from maskroom.catalog import Catalog
from maskroom.catalog.schema import EditVersion
from maskroom.core.errors import InvalidValue
from maskroom.core.progress import Progress
from maskroom.engine.export import job
from maskroom.engine.export.job import (
    COLORSPACES,
    CONFLICT_MODES,
    ExportError,
    ExportReport,
    ExportSettings,
)
from maskroom.engine.export.metadata import METADATA_MODES
from maskroom.engine.export.sharpen import SHARPEN_MODES
from maskroom.services.library import list_images, nothing_selected

__all__ = ["COLORSPACES", "CONFLICT_MODES", "METADATA_MODES", "SHARPEN_MODES", "ExportError", "ExportReport",
           "ExportSettings", "export", "export_versions", "export_presets", "save_export_preset",
           "delete_export_preset", "resolve_settings"]


def resolve_settings(catalog: Catalog, preset: str | None, overrides: dict) -> ExportSettings:
    """Defaults, then the preset's values, then the values given (CLI flags, dialog fields)."""
    with catalog.session() as s:
        return job.resolve_settings(s, preset, overrides)


def export(catalog: Catalog, *, ids: Sequence[int] = (), filters: Sequence[str] = (), every: bool = False,
           sort: str | None = None, to: Path, settings: ExportSettings, all_versions: bool = False,
           jobs: int | None = None, progress: Progress | None = None, cluster: str | None = None) -> ExportReport:
    """``maskroom export``: the master version of each chosen photo (or every version)."""
    if sum(bool(x) for x in (ids, filters, every)) != 1:
        raise InvalidValue("say what to export: image IDs, --filter k=v ..., or --all (exactly one of them)")
    image_ids = list(dict.fromkeys(ids)) if ids else [r["id"] for r in list_images(catalog, filters, sort)]
    if not image_ids:
        raise nothing_selected(filters)
    report = ExportReport()
    with catalog.session() as s:
        version_ids = job.master_version_ids(s, image_ids, report)
        if all_versions:
            version_ids = list(s.scalars(select(EditVersion.id).where(EditVersion.image_id.in_(image_ids))
                                         .order_by(EditVersion.image_id, EditVersion.id)))
    if progress is not None:
        for source, reason in report.failed:
            progress.message(f"{source}: {reason}")
    job.run_export(catalog, version_ids, Path(to), settings, jobs=jobs, progress=progress, report=report,
                   cluster=cluster)
    return report


def export_versions(catalog: Catalog, version_ids: Sequence[int], out_dir: Path, settings: ExportSettings,
                    progress: Progress):
    """The app's export of chosen versions; returns (written paths, 'file: reason' lines)."""
    report = job.run_export(catalog, list(version_ids), Path(out_dir), settings.validate(), progress=progress)
    return [Path(p) for p in report.exported], [f"{src}: {why}" for src, why in report.failed]


def export_presets(catalog: Catalog) -> dict[str, dict]:
    with catalog.session() as s:
        return {p.name: dict(p.body or {}) for p in job.list_presets(s)}


def save_export_preset(catalog: Catalog, name: str, values: dict) -> None:
    with catalog.session() as s:
        job.save_preset(s, name, values)


def delete_export_preset(catalog: Catalog, name: str) -> None:
    with catalog.session() as s:
        job.delete_preset(s, name)
