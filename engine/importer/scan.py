"""Finding the files an import should look at.

Walks folders without following symlinked directories twice (a symlink loop is
reported, not followed forever), keeps only photo extensions when walking, and
pairs RAW+JPEG shots of the same frame (same folder, same stem) so the JPEG
becomes the RAW's sidecar.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from maskroom.core.paths import NOT_UTF8, display_path, storable
from maskroom.engine.imageio.formats import format_of, is_raw, is_supported

# Names a camera tether tool or a copy in progress leaves behind; never photos yet.
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", "~")


@dataclass
class Candidate:
    path: Path
    sidecars: list[Path] = field(default_factory=list)


@dataclass
class ScanResult:
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def is_partial(path: Path) -> bool:
    name = path.name.lower()
    return name.startswith(".") or name.endswith(PARTIAL_SUFFIXES)


def _walk(root: Path, recursive: bool, problems: list) -> list[Path]:
    files: list[Path] = []
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            problems.append((display_path(folder), f"cannot read folder ({exc.strerror or exc})"))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            problems.append((display_path(folder), "symlink loop: folder already visited"))
            continue
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append((display_path(folder), f"cannot list folder ({exc.strerror or exc})"))
            continue
        subdirs = []
        for entry in entries:
            p = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=True):
                    if recursive and storable(p):
                        subdirs.append(p)
                    elif recursive:  # its files' paths could not be stored either
                        problems.append((display_path(p), NOT_UTF8.replace("file", "folder")))
                    continue
            except OSError as exc:  # e.g. a symlink pointing at itself
                problems.append((display_path(p), f"unreadable entry ({exc.strerror or exc})"))
                continue
            if is_supported(p) and not is_partial(p):
                if storable(p):
                    files.append(p)
                else:  # skip only this file, with one line; the batch goes on
                    problems.append((display_path(p), NOT_UTF8))
        stack.extend(reversed(subdirs))
    return files


def scan(paths: list[Path], recursive: bool = False) -> ScanResult:
    result = ScanResult()
    files: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if not storable(p):
            result.problems.append((display_path(p), NOT_UTF8))
        elif p.is_dir():
            files += _walk(p, recursive, result.problems)
        elif p.exists() or p.is_symlink():
            if not is_supported(p):
                result.problems.append((display_path(p), f"unsupported file type {p.suffix or '(no extension)'}"))
            else:
                files.append(p)
        else:
            result.problems.append((display_path(p), "no such file or folder"))
    # Same file named twice (a folder and a file in it): keep it once.
    unique = list(dict.fromkeys(Path(os.path.abspath(f)) for f in files))
    result.candidates = pair_raw_jpeg(unique)
    return result


def pair_raw_jpeg(files: list[Path]) -> list[Candidate]:
    by_frame: dict[tuple[Path, str], list[Path]] = {}
    for f in files:
        by_frame.setdefault((f.parent, f.stem.lower()), []).append(f)
    out = []
    for group in by_frame.values():
        raws = [f for f in group if is_raw(f)]
        jpegs = [f for f in group if format_of(f) == "jpeg"]
        if len(raws) == 1 and jpegs:
            out.append(Candidate(raws[0], sidecars=jpegs))
            out += [Candidate(f) for f in group if f not in raws and f not in jpegs]
        else:
            out += [Candidate(f) for f in group]
    return sorted(out, key=lambda c: str(c.path))
