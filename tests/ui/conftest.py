"""Fixtures the app's tests share (the helpers themselves live in tests/ui_helpers.py)."""
from __future__ import annotations

import pytest

from ui_helpers import app_window, import_samples


@pytest.fixture
def develop(qtbot, catalog, sample_copy, tmp_path):
    """The app open in Develop on the landscape sample (the shipped photos imported)."""
    ids = import_samples(catalog, sample_copy)
    with app_window(qtbot, catalog, tmp_path, develop=ids["immich_tanners_ridge.jpg"]) as win:
        yield win
