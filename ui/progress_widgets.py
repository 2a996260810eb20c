"""A progress bar + Cancel + message list bound to one ``Job`` (shared by the dialogs)."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from maskroom.ui.workers import Job


class JobProgress(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        self.label = QLabel("")
        lay.addWidget(self.label)
        self.status = QLabel("")  # a cluster's running/done per worker, live
        self.status.setVisible(False)
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.messages = QListWidget()
        self.messages.setVisible(False)
        self.messages.setMaximumHeight(110)
        self.messages.setWordWrap(True)
        lay.addWidget(self.messages)
        self.job: Job | None = None
        self.done_count = 0

    def run(self, runner, work, *, button, on_done, on_error=None) -> Job:
        """Start ``work(progress)`` on ``runner``, shown here; the dialog's start
        ``button`` is disabled until the job is done."""
        button.setEnabled(False)
        job = runner.prepare(work, on_done=on_done, on_error=on_error)
        self.bind(job)
        job.signals.done.connect(lambda: button.setEnabled(True))
        runner.start(job)
        return job

    def bind(self, job: Job) -> None:
        self.job = job
        self.done_count = 0
        self.messages.clear()
        self.messages.setVisible(False)
        self.cancel_button.setEnabled(True)
        self.cancel_button.clicked.connect(job.cancel)
        job.signals.started.connect(self._started)
        job.signals.advanced.connect(self._advanced)
        job.signals.message.connect(self.add_message)
        job.signals.status.connect(lambda text: (self.status.setText(text), self.status.setVisible(bool(text))))
        job.signals.failed.connect(lambda text: self.add_message(text))
        job.signals.done.connect(self._done)

    def _started(self, total, label):
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(0)
        self.label.setText(label)

    def _advanced(self, n, item):
        self.done_count += n
        self.bar.setValue(min(self.bar.maximum(), self.done_count))
        what = f"image {item}" if item.isdigit() else item  # sync reports image ids
        self.label.setText(f"{self.done_count}/{self.bar.maximum()}  {what}")

    def add_message(self, text: str) -> None:
        self.messages.setVisible(True)
        self.messages.addItem(text)
        self.messages.item(self.messages.count() - 1).setToolTip(text)

    def _done(self):
        self.cancel_button.setEnabled(False)
        try:
            self.cancel_button.clicked.disconnect()
        except (RuntimeError, TypeError):
            pass
        if self.job is not None and self.job.is_cancelled:
            self.label.setText(f"Cancelled after {self.done_count}")
