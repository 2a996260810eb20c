"""The watch folder: import photos as a camera, a tether tool or a copy drops them."""
from maskroom.engine.watch.folder import (
    WATCH_MODES,
    FolderWatcher,
    WatchOptions,
    is_ignored_name,
    watch_command,
    watch_options,
)

__all__ = ["WATCH_MODES", "FolderWatcher", "WatchOptions", "is_ignored_name", "watch_command", "watch_options"]
