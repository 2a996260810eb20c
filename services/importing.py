"""Import use case (``maskroom import`` and the app's import dialog): files and folders
in, new frames into their series, auto-sync series give them their edit."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from maskroom.catalog import Catalog
from maskroom.core.errors import InvalidValue
from maskroom.core.progress import Progress
from maskroom.engine.importer import ImportReport
from maskroom.engine.importer import run_import as _run_import
from maskroom.engine.sync.engine import auto_sync_new_images


@dataclass
class ImportResult:
    report: ImportReport
    auto_synced: list[int] = field(default_factory=list)

    @property
    def image_ids(self) -> list[int]:
        return list(self.report.imported)

    @property
    def problems(self) -> list[str]:
        return [f"{path}: {reason}" for path, reason in self.report.skipped]


def import_photos(catalog: Catalog, paths: Sequence[Path], progress: Progress, *, recursive: bool = True,
                  copy_to: Path | None = None, template: str | None = None, jobs: int | None = None,
                  cluster: str | None = None) -> ImportResult:
    """Import files/folders; new frames that join an auto-sync series get its edit.
    Naming only paths that do not exist is an error (a mistyped path records no session)."""
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing and len(missing) == len(paths):
        raise InvalidValue(f"{missing[0]}: no such file or folder")
    report = _run_import(catalog, [Path(p) for p in paths], recursive=recursive, copy_to=copy_to,
                         template=template if copy_to else None, jobs=jobs, progress=progress, cluster=cluster)
    synced = []
    if report.imported:
        synced = [t.image_id for t in auto_sync_new_images(catalog, report.imported, progress=progress)
                  if t.status == "synced"]
    return ImportResult(report, synced)
