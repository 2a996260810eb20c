"""The watch folder: import photos as a camera, a tether tool or a copy drops them."""
from maskroom.engine.watch.folder import FolderWatcher, WatchOptions, is_ignored_name

__all__ = ["FolderWatcher", "WatchOptions", "is_ignored_name"]
