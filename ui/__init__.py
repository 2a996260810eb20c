"""maskroom's desktop app (PySide6).

The app holds no editing logic of its own: every action calls the same services the
CLI uses (``maskroom.services``), heavy work
runs on ``maskroom.ui.workers`` so the window stays responsive.
"""

# PySide6 6.12.0 loses a reference to True/None on Python-side signal emits and on
# every call that returns nothing (a few thousand repaints end in "Fatal Python
# error: none_dealloc"); pyproject excludes it, and the app refuses to start on it.
BROKEN_PYSIDE6 = {"6.12.0"}


def qt_problem() -> str | None:
    """Why the installed Qt binding cannot run the app, or None."""
    import PySide6  # lazy: the version check runs before Qt is loaded

    if PySide6.__version__ in BROKEN_PYSIDE6:
        return (f"PySide6 {PySide6.__version__} crashes after a few thousand repaints (a reference-count bug); "
                "install another release: pip install 'PySide6-Essentials!=6.12.0'")
    return None
