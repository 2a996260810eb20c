"""Progressive rendering and mask overlays for the loupe, always on workers.

A slider drag asks for a render on every tick; ``PreviewRenderer`` keeps only the
newest request: it renders a small version first (fast feedback while dragging),
then the full preview once the input settles.  Results of a superseded request are
dropped, so the canvas never shows an older edit after a newer one.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from maskroom.core.recipe import Recipe
from maskroom.services import develop, editing, masks
from maskroom.ui.workers import JobRunner

DRAFT_EDGE = 480
FULL_EDGE = 1600


class PreviewRenderer(QObject):
    rendered = Signal(object, bool)  # RGB uint8 array, is_full
    original = Signal(object)  # the unedited image, for before/after
    overlay = Signal(object, str)  # mask alpha, layer name
    stale = Signal(list)  # AI component uids needing a refresh
    warnings = Signal(dict)  # AI component uid -> why its mask is empty or doubtful
    busy = Signal(bool)
    error = Signal(str)

    def __init__(self, catalog, runner: JobRunner, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self.runner = runner
        self.version_id: int | None = None
        self.generation = 0
        self.overlay_generation = 0
        self._recipe: Recipe | None = None
        self._full_timer = QTimer(self, singleShot=True, interval=250)
        self._full_timer.timeout.connect(lambda: self._start(FULL_EDGE, True))
        self._jobs_in_flight = 0
        self._draft_running = False
        self._draft_waiting = False
        self._full_shown = -1
        self.renders_done = 0

    def set_version(self, version_id: int) -> None:
        self.version_id = version_id
        image_id = editing.image_of_version(self.catalog, version_id)
        self.runner.submit(lambda _p: develop.original_preview(self.catalog, image_id, FULL_EDGE),
                           on_done=lambda rgb: self.original.emit(rgb), on_error=self._error)

    def _error(self, text: str) -> None:
        self.error.emit(text)

    def request(self, recipe: Recipe, *, draft: bool = True) -> None:
        """Render ``recipe`` (the in-memory edit): draft now, full once it settles."""
        if self.version_id is None:
            return
        self._recipe = recipe.copy()
        self.generation += 1
        if draft:
            self._start(DRAFT_EDGE, False)
            self._full_timer.start()
        else:
            self._full_timer.stop()
            self._start(FULL_EDGE, True)

    def _start(self, edge: int, full: bool) -> None:
        # At most one draft render in flight: a fast drag asks on every tick, and
        # queueing each would only delay the newest.  The newest waits and runs next.
        if not full and self._draft_running:
            self._draft_waiting = True
            return
        gen, vid, recipe = self.generation, self.version_id, self._recipe
        if not full:
            self._draft_running = True

        def work(_progress):
            return develop.render_preview(self.catalog, vid, edge, recipe=recipe)

        def done(rgb, gen=gen, full=full):
            self.renders_done += 1
            # Only the newest edit, and never a draft over the full render of the same edit.
            if gen == self.generation and (full or self._full_shown != gen):
                if full:
                    self._full_shown = gen
                self.rendered.emit(rgb, full)

        def finished(full=full):
            if not full:
                self._draft_running = False
                if self._draft_waiting:
                    self._draft_waiting = False
                    self._start(DRAFT_EDGE, False)

        job = self.runner.prepare(work, on_done=done, on_error=self._error)
        job.signals.done.connect(finished)
        self._track(self.runner.start(job))

    def request_overlay(self, layer_name: str, recipe: Recipe) -> None:
        """Derive a saved layer's mask on a worker (AI kinds take seconds)."""
        if self.version_id is None or recipe.layer(layer_name) is None or recipe.layer(layer_name).mask is None:
            self.overlay.emit(None, layer_name)
            return
        self.overlay_generation += 1
        gen, vid = self.overlay_generation, self.version_id

        def work(_progress):
            return masks.mask_alpha(self.catalog, vid, layer_name, long_edge=FULL_EDGE)

        def done(alpha, gen=gen):
            if gen == self.overlay_generation:
                self.overlay.emit(alpha, layer_name)
            self.check_warnings()  # the layer's AI masks were just derived

        self._track(self.runner.submit(work, on_done=done, on_error=self._error))

    def check_stale(self, recipe: Recipe) -> None:
        if self.version_id is None:
            return
        vid, snapshot = self.version_id, recipe.copy()
        self.runner.submit(lambda _p: masks.stale_component_uids(self.catalog, vid, snapshot),
                           on_done=lambda uids: self.stale.emit(uids), on_error=self._error)
        self.check_warnings()

    def check_warnings(self) -> None:
        if self.version_id is None:
            return
        vid = self.version_id
        self.runner.submit(lambda _p: masks.mask_warnings(self.catalog, vid),
                           on_done=lambda found: self.warnings.emit(found), on_error=self._error)

    def refresh(self, uids: list[str], recipe: Recipe, on_done=None) -> None:
        vid, snapshot = self.version_id, recipe.copy()
        job = self.runner.submit(lambda p: masks.refresh_components(self.catalog, vid, snapshot, uids, p),
                                 on_done=on_done, on_error=self._error)
        self._track(job)

    def _track(self, job):
        self._jobs_in_flight += 1
        self.busy.emit(True)

        def end():
            self._jobs_in_flight -= 1
            if self._jobs_in_flight == 0:
                self.busy.emit(False)

        job.signals.done.connect(end)
        return job

