"""The filter bar's fields produce the same filters `maskroom ls` reads, and a bad value is
marked on its field instead of reaching the query."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from maskroom.catalog.queries import build_query  # noqa: E402
from maskroom.engine.importer import run_import  # noqa: E402

pytestmark = pytest.mark.ui


def test_filter_bar_fields_select_images(qtbot, catalog, sample_copy):
    from maskroom.ui.filter_bar import FilterBar

    run_import(catalog, [sample_copy], jobs=1)
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.fields["camera"].setText("nikon")
    bar.fields["date"].setText("2023-09..2023-10")
    with qtbot.waitSignal(bar.changed, timeout=2000) as sig:
        bar.emit_changed()
    filters, sort = sig.args
    assert filters == {"camera": "nikon", "date": "2023-09..2023-10"}
    with catalog.session() as s:
        names = [i.filename for i in s.scalars(build_query(filters, sort))]
    assert names == ["immich_tanners_ridge.jpg"]


def test_bad_date_is_marked_not_applied(qtbot):
    from maskroom.ui.filter_bar import FilterBar

    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.fields["date"].setText("last tuesday")
    bar.fields["lens"].setText("50mm")
    assert bar.filters() == {"lens": "50mm"}
    assert "date" in bar.fields["date"].toolTip() and "d04040" in bar.fields["date"].styleSheet()
