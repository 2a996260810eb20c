"""Path mapping between the machine that runs a command and cluster workers.

Workers see the shared storage at other mount points (``/Volumes/Shoots`` on the
studio's Mac is ``/mnt/shoots`` on a Linux worker).  The catalog keeps the paths as
the photographer's machines see them; a worker maps each path it reads from the
catalog or gets in a task (originals, sidecars, the cache folder, export targets) to
its own, and maps paths it reports back.  The mapping is stored with the catalog
(``--map SRC=DST`` saves it), so every later batch and every worker uses the same.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

from sqlalchemy import select

from maskroom.catalog.schema import Preset
from maskroom.core.errors import InvalidValue

# Stored as presets of this kind: one row per mapping, named by the catalog-side prefix.
PRESET_KIND = "path-map"


def _under(path: str, prefix: str) -> str | None:
    """The rest of ``path`` below ``prefix`` ('' for the prefix itself), or None."""
    if path == prefix:
        return ""
    p = prefix.rstrip("/")
    return path[len(p):] if path.startswith(p + "/") else None


@dataclass(frozen=True)
class PathMap:
    pairs: tuple[tuple[str, str], ...] = ()  # (catalog side, worker side)

    @classmethod
    def parse(cls, texts) -> PathMap:
        pairs = []
        for text in texts:
            src, sep, dst = str(text).partition("=")
            src, dst = src.strip(), dst.strip()
            if not sep or not src or not dst:
                raise InvalidValue(f"--map {text!r}: expected CATALOG_PATH=WORKER_PATH")
            for side in (src, dst):
                if not side.startswith("/"):
                    raise InvalidValue(f"--map {text!r}: {side!r} is not an absolute path")
            pairs.append((posixpath.normpath(src), posixpath.normpath(dst)))
        return cls(tuple(pairs))

    def merged(self, other: PathMap) -> PathMap:
        """These mappings with ``other``'s on top (same catalog-side prefix: other wins)."""
        mine = dict(self.pairs)
        mine.update(dict(other.pairs))
        return PathMap(tuple(sorted(mine.items())))

    def _apply(self, path, pairs) -> str:
        text = str(path)
        # Longest prefix first: /Volumes/Shoots/2024 wins over /Volumes/Shoots.
        for a, b in sorted(pairs, key=lambda p: -len(p[0])):
            rest = _under(text, a)
            if rest is not None:
                return b + rest
        return text

    def local(self, path) -> str:
        """A catalog path as this worker sees it."""
        return self._apply(path, self.pairs)

    def shared(self, path) -> str:
        """A worker path as the catalog records it."""
        return self._apply(path, [(b, a) for a, b in self.pairs])

    def __bool__(self) -> bool:
        return bool(self.pairs)


def load_path_map(session) -> PathMap:
    rows = session.scalars(select(Preset).where(Preset.kind == PRESET_KIND).order_by(Preset.name))
    return PathMap(tuple((row.name, str(row.body["to"])) for row in rows))


def save_path_map(session, paths: PathMap) -> None:
    for src, dst in paths.pairs:
        row = session.scalar(select(Preset).where(Preset.kind == PRESET_KIND, Preset.name == src))
        if row is None:
            session.add(Preset(kind=PRESET_KIND, name=src, body={"to": dst}))
        else:
            row.body = {"to": dst}
