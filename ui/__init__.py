"""maskroom's desktop app (PySide6).

The app holds no editing logic of its own: every action calls the same services the
CLI uses (``maskroom.ui.services`` is the one place that names them), heavy work
runs on ``maskroom.ui.workers`` so the window stays responsive.
"""
