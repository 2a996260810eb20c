"""The one way maskroom writes a file: temp file beside it, flush, fsync, verify, rename.

Every writer (exports, thumbnails, previews, rendered previews, mask rasters, catalog
backups, preset files, model packs) goes through ``atomic_path``: the content is
written under a hidden temporary name in the *same folder* (so the rename is atomic
and never crosses a file system), flushed to disk, checked (non-empty; an image must
decode to the end), then renamed over the final name and the folder entry synced.  A
failure - disk full included, whatever the encoder did or did not report - removes the
temporary file and raises ``FileWriteError`` with one line; the final name is then
either absent or still holds the previous, complete file.

Temporary names carry the writer's host and process id, so ``sweep_stale_temps`` (run
when a batch starts) can remove the ones a killed process left behind without touching
a file another live process on this machine is still writing.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import socket
import sqlite3
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from maskroom.core.errors import MaskroomError

TEMP_PREFIX = ".mrtmp-"
# Temporary names older writers used; the sweep removes them too (a killed export
# left ``.export-XXXX.jpg`` behind, thumbnails ``.NAME.PID.part``).
LEGACY_TEMP_PATTERNS = (".export-*", ".*.part", "*.tmp.png")
# A temp file of a process we cannot see (another host on a shared folder) counts as
# abandoned after this long: no single file takes an hour to write.
STALE_SECONDS = 3600.0
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:6]

Verifier = Callable[[Path], None]


class FileWriteError(MaskroomError, OSError):
    """A file that could not be written completely (disk full, encoder failure...)."""


HASH_CHUNK = 1 << 20


def content_hash(path: Path) -> str:
    """The catalog's content hash of a file (xxh3-128 of every byte, hex): what tells one
    photo from another, whatever its name or place.  OSError as ``open`` raises it."""
    import xxhash  # here, not at the top: most users of this module never hash

    h = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def holds_other_content(path: str | os.PathLike, size: int | None, mtime: float | None, digest: str) -> bool:
    """Whether the file now holds other bytes than the ones catalogued as (size, mtime,
    content hash).  Only a file whose size or date moved is hashed, so a touched file is
    not changed.  OSError as ``stat`` or ``open`` raise it (missing, unreadable)."""
    st = os.stat(path)
    if st.st_size == size and abs(st.st_mtime - (mtime or 0.0)) < 1e-3:
        return False
    return content_hash(Path(path)) != digest


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask is process-wide and not thread-safe


def temp_path_for(path: Path) -> Path:
    """A fresh hidden name beside ``path`` that keeps its extension (encoders pick by it)."""
    path = Path(path)
    token = uuid.uuid4().hex[:8]
    return path.with_name(f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-{token}-{path.name}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def nearly_full(folder: Path) -> bool:
    """Whether the folder's file system has (almost) no room left: some encoders and
    exiv2 truncate silently on ENOSPC, so a failed check there is most likely that."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return st.f_bavail * st.f_frsize < 1 << 20


def _why(exc: BaseException, folder: Path, tmp: Path, prefix: str = "") -> str:
    """One short reason: "disk full" when it is (ENOSPC, or a file system left with no
    room after an encoder or exiv2 failed without saying why), else the error's first
    line without the temporary name."""
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or nearly_full(folder):
        return "disk full"
    text = (getattr(exc, "strerror", None) or str(exc)).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return prefix + text.replace(f"{tmp}: ", "").replace(str(tmp), tmp.name)


@contextlib.contextmanager
def atomic_path(path: Path, *, verify: Verifier | None = None, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; on success it becomes ``path``.

    ``verify(tmp)`` raises when the written file is not usable (the default checks only
    that it is not empty; ``verify_image`` decodes an image).  On any error the
    temporary file is removed and the final name is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    try:
        yield tmp
        if not tmp.is_file():
            raise FileWriteError(f"{path}: cannot write (nothing was written)")
        _fsync_file(tmp)
        if tmp.stat().st_size == 0:
            raise FileWriteError(f"{path}: cannot write ({_why(OSError('the written file is empty'), path.parent, tmp)})")
        if verify is not None:
            try:
                verify(tmp)
            except Exception as exc:
                raise FileWriteError(f"{path}: cannot write ({_why(exc, path.parent, tmp, 'incomplete or unreadable: ')})") \
                    from exc
        if mode is None:  # a replaced file keeps its mode; a new one gets the umask's default
            try:
                mode = path.stat().st_mode & 0o777
            except OSError:
                mode = 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except FileWriteError:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FileWriteError(f"{path}: cannot write ({_why(exc, path.parent, tmp)})") from exc
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        # Encoders and databases report a full disk in their own words (sqlite3:
        # "database or disk is full"); say it the same way for all of them.
        if nearly_full(path.parent):
            raise FileWriteError(f"{path}: cannot write (disk full)") from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes, *, verify: Verifier | None = None) -> Path:
    with atomic_path(path, verify=verify) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
    return Path(path)


def atomic_write_text(path: Path, text: str, *, verify: Verifier | None = None) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), verify=verify)


# -- verification -------------------------------------------------------------
def verify_image(path: Path) -> None:
    """Raise unless ``path`` is a complete JPEG, PNG or TIFF (by content, not name).

    Cheap enough for every export: a JPEG is entropy-decoded at 1/8 scale (every byte
    is read, truncation fails), a PNG's chunks are CRC-checked up to IEND, a TIFF's
    strips/tiles must all lie inside the file.
    """
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[:2] == b"\xff\xd8":
        _verify_jpeg(path)
    elif head == b"\x89PNG\r\n\x1a\n":
        _verify_png(path)
    elif head[:4] in (b"II*\x00", b"MM\x00*"):
        _verify_tiff(path)
    else:
        raise ValueError("not a JPEG, PNG or TIFF file")


def _verify_jpeg(path: Path) -> None:
    from PIL import Image  # lazy: core's import stays free of image libraries

    with Image.open(path) as im:
        im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
        im.load()


def _verify_png(path: Path) -> None:
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        fh.seek(8)
        pos = 8
        while True:
            header = fh.read(8)
            if len(header) < 8:
                raise ValueError("PNG ends before its IEND chunk")
            length, kind = struct.unpack(">I4s", header)
            if pos + 12 + length > size:
                raise ValueError("PNG chunk runs past the end of the file")
            # CRC over IDAT too: a zero-filled tail (a write the disk dropped) fails here.
            crc = zlib.crc32(kind)
            left = length
            while left:
                chunk = fh.read(min(left, 1 << 20))
                crc = zlib.crc32(chunk, crc)
                left -= len(chunk)
            (stored,) = struct.unpack(">I", fh.read(4))
            if stored != crc & 0xFFFFFFFF:
                raise ValueError(f"PNG chunk {kind.decode('latin-1')} fails its CRC")
            pos += 12 + length
            if kind == b"IEND":
                return


def _verify_tiff(path: Path) -> None:
    from PIL import Image  # see _verify_jpeg

    size = os.path.getsize(path)
    with Image.open(path) as im:
        tags = im.tag_v2
        offsets = tags.get(273) or tags.get(324)  # StripOffsets / TileOffsets
        counts = tags.get(279) or tags.get(325)  # StripByteCounts / TileByteCounts
        if not offsets or not counts:
            raise ValueError("TIFF without image data")
        if isinstance(offsets, int):
            offsets, counts = (offsets,), (counts,)
        if any(o + c > size for o, c in zip(offsets, counts)):
            raise ValueError("TIFF image data runs past the end of the file")


def verify_sqlite(path: Path) -> None:
    """Raise unless ``path`` is an SQLite database that passes its quick check."""
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise ValueError("not an SQLite database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("PRAGMA quick_check").fetchone()
    finally:
        conn.close()
    if not row or row[0] != "ok":
        raise ValueError(f"SQLite quick_check: {row[0] if row else 'no answer'}")


# -- the start-up sweep -------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale_temp(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` is a temporary file no running writer owns any more."""
    name = path.name
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except OSError:
        return False
    if name.startswith(TEMP_PREFIX):
        parts = name[len(TEMP_PREFIX):].split("-", 3)
        if len(parts) == 4 and parts[0] == _HOST and parts[1].isdigit():
            return not _pid_alive(int(parts[1])) or age > STALE_SECONDS
        return age > STALE_SECONDS
    return any(path.match(p) for p in LEGACY_TEMP_PATTERNS) and age > STALE_SECONDS


def sweep_stale_temps(folder: Path, *, recursive: bool = False) -> list[Path]:
    """Remove the abandoned temporary files in ``folder``; returns what was removed."""
    removed: list[Path] = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    now = time.time()
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if recursive:
                    stack.append(Path(entry.path))
                continue
            p = Path(entry.path)
            if (entry.name.startswith(TEMP_PREFIX) or any(p.match(x) for x in LEGACY_TEMP_PATTERNS)) \
                    and entry.is_file(follow_symlinks=False) and is_stale_temp(p, now):
                try:
                    p.unlink()
                    removed.append(p)
                except OSError:
                    pass
    return removed


def sweep_tree_now_and_then(root: Path, every: float = STALE_SECONDS) -> list[Path]:
    """``sweep_stale_temps(root, recursive=True)`` at most once per ``every`` seconds.

    For the cache folder, whose tree may hold 100,000 thumbnails: a stamp file
    remembers the last sweep, so frequent small batches (a watch folder) do not walk
    it each time.
    """
    root = Path(root)
    stamp = root / ".last-temp-sweep"
    try:
        if time.time() - stamp.stat().st_mtime < every:
            return []
    except OSError:
        pass
    removed = sweep_stale_temps(root, recursive=True)
    try:
        root.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    except OSError:
        pass
    return removed
