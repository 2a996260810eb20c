"""Shared set-up for the Qt tests: offscreen platform, a catalog of the sample photos."""
from __future__ import annotations

import contextlib
import gc
import os
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from maskroom.core.progress import Progress  # noqa: E402
from maskroom.services import importing, library as library_service  # noqa: E402


def import_samples(catalog, folder) -> dict[str, int]:
    """Import the sample copy through the app's import service; {filename: image id}."""
    imported = importing.import_photos(catalog, [folder], Progress(), jobs=1)
    ids, problems = imported.image_ids, imported.problems
    assert not problems, problems
    rows = library_service.image_rows(catalog, ids)
    return {r.filename: r.id for r in rows.values()}


def open_grid(qtbot, catalog, size=(1200, 900)):
    """The library grid alone (model + view) on the whole catalog sorted by name, shown."""
    from maskroom.ui.library_view import LibraryModel, LibraryView

    model = LibraryModel(catalog)
    model.reload({}, "name")
    view = LibraryView(model)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    return model, view


@contextlib.contextmanager
def app_window(qtbot, catalog, tmp_path, *, size=None, ini=None, develop=None):
    """The app's main window on the catalog with its own settings file, shown; with
    ``develop`` (an image id) opened on that photo in Develop once it has rendered.
    Afterwards its workers are cancelled and waited for."""
    from PySide6.QtCore import QSettings

    from maskroom.ui.app import MainWindow

    win = MainWindow(catalog, QSettings(str(ini or tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    if size:
        win.resize(*size)
    win.show()
    try:
        if develop is not None:
            win.select_image(develop)
            win.show_view("develop")
            wait_until(qtbot, lambda: win.canvas.after is not None, what="render")
        yield win
    finally:
        win.runner.cancel_all()
        win.runner.wait(20000)


def wait_until(qtbot, predicate, timeout=60.0, what="condition"):
    """Process events until predicate() is true (long ceiling: 2 shared cores)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        qtbot.wait(20)


@pytest.fixture(autouse=True)
def qt_cleanup(qapp):
    """After each test: let workers finish and free Qt objects while the app is alive.

    Left to interpreter shutdown, PySide6 may tear down wrappers of objects a worker
    thread still signals through, and abort the process after the tests passed.
    """
    yield
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(60000)
    qapp.processEvents()
    gc.collect()
    qapp.processEvents()


@pytest.fixture
def develop(qtbot, catalog, sample_copy, tmp_path):
    """The app open in Develop on the landscape sample (the shipped photos imported);
    test modules import it by name."""
    ids = import_samples(catalog, sample_copy)
    with app_window(qtbot, catalog, tmp_path, develop=ids["immich_tanners_ridge.jpg"]) as win:
        yield win
