"""maskroom's desktop app (PySide6).

The app holds no editing logic of its own: every action calls the same services the
CLI uses (``maskroom.services``); heavy work runs on ``maskroom.ui.workers`` so the
window stays responsive.
"""
import ctypes.util
import os
import sys

# PySide6 6.12.0 loses a reference to True/None on Python-side signal emits and on
# every call that returns nothing (a few thousand repaints end in "Fatal Python
# error: none_dealloc"); pyproject excludes it, and the app refuses to start on it.
BROKEN_PYSIDE6 = {"6.12.0"}


# Qt's X11 platform plugin (xcb) aborts the process when one of these is missing:
# library name -> the Debian/Ubuntu package that has it.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4", "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0", "xcb-render-util": "libxcb-render-util0", "xcb-shape": "libxcb-shape0",
    "xkbcommon-x11": "libxkbcommon-x11-0", "EGL": "libegl1", "fontconfig": "libfontconfig1",
}


def display_problem() -> str | None:
    """Why Qt would abort before showing a window on this desktop, or None: no display to
    open, or system libraries its X11 plugin needs missing (named with their packages)."""
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not platform and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return ("no display: DISPLAY and WAYLAND_DISPLAY are unset (run it in a desktop session, over ssh -X, "
                "or with QT_QPA_PLATFORM=offscreen for screenshots)")
    if platform in ("", "xcb") and not os.environ.get("WAYLAND_DISPLAY"):
        missing = sorted({pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None})
        if missing:
            return f"Qt's X11 plugin needs system libraries: apt-get install {' '.join(missing)}"
    return None


def qt_problem() -> str | None:
    """Why the installed Qt binding cannot run the app here, or None."""
    if (problem := display_problem()) is not None:
        return problem
    import PySide6  # lazy: the version check runs before Qt is loaded

    if PySide6.__version__ in BROKEN_PYSIDE6:
        return (f"PySide6 {PySide6.__version__} crashes after a few thousand repaints (a reference-count bug); "
                "install another release: pip install 'PySide6-Essentials!=6.12.0'")
    return None
