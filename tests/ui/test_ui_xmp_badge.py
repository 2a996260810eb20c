"""The grid marks photos whose XMP sidecar changed outside maskroom, and the mark goes
once the sidecar is read in."""
from __future__ import annotations

import pytest

from maskroom.services import xmp as xmp_service
from ui_helpers import import_samples, open_grid, wait_until, qt_cleanup  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.ui


def test_changed_sidecar_badge(qtbot, catalog, sample_copy, tmp_path):
    ids = import_samples(catalog, sample_copy)
    falcon = ids["immich_prairie_falcon.jpg"]
    assert [r.status for r in xmp_service.write(catalog, [falcon])] == ["written"]
    sidecar = sample_copy / "immich_prairie_falcon.xmp"
    sidecar.write_text(sidecar.read_text().replace('xmp:Rating="0"', 'xmp:Rating="5"'))
    model, view = open_grid(qtbot, catalog)
    wait_until(qtbot, lambda: model.thumbs.idle() and len(model.thumbs._pixmaps) == len(ids), what="thumbnails")
    assert model.xmp_changed == {falcon}
    row = model.rows_of(falcon)[0]
    assert "XMP sidecar changed" in model.data(model.index(row), 3)  # Qt.ToolTipRole
    view.grab().save(str(tmp_path / "grid_xmp_badge.png"))
    xmp_service.read(catalog, [falcon])
    model.reload()
    wait_until(qtbot, lambda: not model.loading, what="reload")
    assert model.xmp_changed == set()
