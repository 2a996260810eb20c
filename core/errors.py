"""The one error base every maskroom error derives from.

Front ends catch ``MaskroomError`` to print one clear line (the message already
names the file or value and the reason) instead of a traceback; anything else that
escapes is a bug and keeps its traceback.
"""
from __future__ import annotations


class MaskroomError(Exception):
    """An expected failure whose message is fit to show a user as one line."""


class InvalidValue(MaskroomError, ValueError):
    """A value that enters maskroom (CLI, app, preset, XMP, sync) and is refused at the door."""


def about(subject: str, exc: BaseException | str) -> str:
    """``"<subject>: <message>"``, unless the message already begins with the subject
    (an error raised deeper that names the image itself is not prefixed twice)."""
    text = str(exc)
    return text if text.startswith(subject) else f"{subject}: {text}"
