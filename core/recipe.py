"""The edit model: a recipe is an ordered stack of layers, each optionally masked.

This is the one JSON shape shared by the catalog (layers table, history, presets),
the render pipeline, the mask engine, sync and the UI.  Coordinates inside mask
parameters are normalised to the displayed image (x, y in 0..1, origin top-left,
after EXIF orientation) so a definition is resolution-independent and moves to
other images.  Lengths (feather, brush size, grow) are fractions of the long edge.
"""
from __future__ import annotations

import copy
import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from maskroom.core.errors import InvalidValue

# 2: an adjustment value may be a curve (a list of [x, y] points, e.g. curve.points)
# besides a number; schema-1 recipes are migrated on load (see _migrate).
SCHEMA_VERSION = 2

MODES = ("add", "subtract", "intersect")

# Component kinds by how sync treats them (see engine/sync): AI kinds are re-derived
# on each target, geometric kinds are moved by frame alignment, range kinds are
# recomputed from the target's own pixels.
AI_KINDS = frozenset({
    "subject", "sky", "background", "person", "face-skin", "body-skin", "eyebrows",
    "sclera", "iris", "lips", "teeth", "hair", "clothes", "object",
})
GEOMETRIC_KINDS = frozenset({"brush", "linear", "radial"})
RANGE_KINDS = frozenset({"color-range", "luminance-range", "all"})
ALL_KINDS = AI_KINDS | GEOMETRIC_KINDS | RANGE_KINDS


class RecipeError(InvalidValue):
    """A recipe, layer or mask definition that does not validate."""


def new_uid() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class MaskComponent:
    kind: str
    mode: str = "add"
    inverted: bool = False
    # The intent: prompt (box/lasso/points, normalised), person index or reference
    # point, thresholds... Everything needed to derive the raster again.
    params: dict[str, Any] = field(default_factory=dict)
    feather: float = 0.0  # Gaussian sigma as a fraction of the long edge
    density: float = 1.0  # 0..1 multiplier on the component's alpha
    grow: float = 0.0  # dilate (>0) / erode (<0), fraction of the long edge
    uid: str = field(default_factory=new_uid)
    # Informative derived state (input digest, model + version, status, confidence)
    # as last computed; the raster itself lives in the mask_rasters cache.
    derived: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        if self.kind not in ALL_KINDS:
            raise RecipeError(f"unknown mask kind {self.kind!r} (known: {', '.join(sorted(ALL_KINDS))})")
        if self.mode not in MODES:
            raise RecipeError(f"mask mode must be one of {MODES}, not {self.mode!r}")
        if not 0.0 <= self.density <= 1.0:
            raise RecipeError(f"mask density must be within 0..1, not {self.density}")
        if self.feather < 0:
            raise RecipeError(f"mask feather must be >= 0, not {self.feather}")

    @property
    def is_ai(self) -> bool:
        return self.kind in AI_KINDS

    def intent(self) -> dict[str, Any]:
        """What defines the result (not the derived state): hashed for cache keys."""
        d = asdict(self)
        d.pop("derived")
        d.pop("uid")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MaskComponent:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        comp = cls(**known)
        comp.params = dict(comp.params or {})
        comp.derived = dict(comp.derived or {})
        comp.validate()
        return comp


@dataclass
class MaskDefinition:
    components: list[MaskComponent] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "components": [asdict(c) for c in self.components]}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> MaskDefinition | None:
        if d is None:
            return None
        return cls([MaskComponent.from_dict(c) for c in d.get("components", [])])


def _adjustment_value(v: Any) -> float | list[list[float]]:
    """A number, or a curve as a list of [x, y] pairs (ranges are checked by the engine)."""
    if isinstance(v, (list, tuple)):
        try:
            return [[float(x), float(y)] for x, y in v]
        except (TypeError, ValueError):
            raise RecipeError(f"a curve must be a list of [x, y] points, not {v!r}") from None
    return float(v)


def _migrate(d: dict[str, Any], version: int) -> dict[str, Any]:
    """A stored recipe dict of an older schema, in the current one.

    1 -> 2: every adjustment value of a schema-1 recipe is a number (schema 1 had no
    curves); they are read as numbers, so old recipes render exactly as before.
    """
    if version < 2:
        d = dict(d, layers=[dict(x, adjustments={str(k): float(v) for k, v in (x.get("adjustments") or {}).items()})
                            for x in d.get("layers", [])])
    return d


@dataclass
class Layer:
    name: str
    enabled: bool = True
    opacity: float = 1.0
    adjustments: dict[str, float] = field(default_factory=dict)
    mask: MaskDefinition | None = None  # None: the whole image (the global layer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "enabled": self.enabled,
            "opacity": self.opacity,
            "adjustments": dict(self.adjustments),
            "mask": self.mask.to_dict() if self.mask is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Layer:
        if "name" not in d:
            raise RecipeError("a layer needs a name")
        opacity = float(d.get("opacity", 1.0))
        if not 0.0 <= opacity <= 1.0:
            raise RecipeError(f"layer {d['name']!r}: opacity must be within 0..1")
        return cls(
            name=str(d["name"]),
            enabled=bool(d.get("enabled", True)),
            opacity=opacity,
            adjustments={str(k): _adjustment_value(v) for k, v in (d.get("adjustments") or {}).items()},
            mask=MaskDefinition.from_dict(d.get("mask")),
        )


@dataclass
class Recipe:
    layers: list[Layer] = field(default_factory=lambda: [Layer("Global")])
    # Global, non-layer settings: crop {x0,y0,x1,y1 normalised}, straighten (deg),
    # raw {white_balance, highlight_mode}...
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def global_layer(self) -> Layer:
        return self.layers[0]

    def layer(self, name: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": copy.deepcopy(self.settings),
            "layers": [layer.to_dict() for layer in self.layers],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Recipe:
        version = int(d.get("schema_version", SCHEMA_VERSION))
        if version > SCHEMA_VERSION:
            raise RecipeError(f"recipe schema {version} is newer than this maskroom ({SCHEMA_VERSION})")
        d = _migrate(d, version)
        layers = [Layer.from_dict(x) for x in d.get("layers", [])] or [Layer("Global")]
        if layers[0].mask is not None:
            raise RecipeError("the first layer is the global layer and cannot have a mask")
        return cls(layers=layers, settings=dict(d.get("settings") or {}))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        return cls.from_dict(json.loads(text))

    def digest(self) -> str:
        """Hash of what changes the rendered look (derived mask state excluded)."""
        d = self.to_dict()
        for layer in d["layers"]:
            for comp in (layer["mask"] or {}).get("components", []):
                comp.pop("derived", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()

    def copy(self) -> Recipe:
        return Recipe.from_dict(self.to_dict())
