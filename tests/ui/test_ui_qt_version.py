"""The app refuses a Qt binding known to crash, and the installed one is not it."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.ui


def test_installed_pyside6_is_not_a_broken_release():
    from maskroom.ui import qt_problem

    assert qt_problem() is None


def test_broken_release_is_one_clear_line(monkeypatch, catalog):
    import PySide6

    from conftest import run_cli

    monkeypatch.setattr(PySide6, "__version__", "6.12.0")
    result = run_cli(catalog, "ui", ok=False)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "PySide6 6.12.0" in lines[0] and "!=6.12.0" in lines[0]
