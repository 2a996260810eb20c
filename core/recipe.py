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
from maskroom.core.values import check_adjustments, check_params, check_settings, number

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


def canonical_json(value: Any) -> str:
    """One JSON text for equal settings however they were written: numbers as floats
    (a hand-built recipe's ``20`` and a stored one's ``20.0`` are the same setting;
    ``Recipe.from_dict`` reads every number as a float), tuples as lists, keys sorted.
    In-memory render caches key on this, so an edit that is not normalised still hits."""
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    try:
        return float(value)  # ints, numpy scalars
    except (TypeError, ValueError):
        return value


def _known_keys(d: Any, allowed, what: str) -> dict[str, Any]:
    """``d`` as a dict with no keys beyond ``allowed`` (a typo must not vanish silently)."""
    if not isinstance(d, dict):
        raise RecipeError(f"{what} must be a JSON object, not {type(d).__name__}")
    unknown = sorted(set(map(str, d)) - set(allowed))
    if unknown:
        raise RecipeError(f"{what}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
    return d


def _checked(fn, *args):
    """Run a core.values check; its InvalidValue becomes a RecipeError (same one line)."""
    try:
        return fn(*args)
    except RecipeError:
        raise
    except InvalidValue as exc:
        raise RecipeError(str(exc)) from None


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
        """Everything about the component, params per kind included (core/values.py)."""
        if self.kind not in ALL_KINDS:
            raise RecipeError(f"unknown mask kind {self.kind!r} (known: {', '.join(sorted(ALL_KINDS))})")
        if self.mode not in MODES:
            raise RecipeError(f"mask mode must be one of {MODES}, not {self.mode!r}")
        if not isinstance(self.inverted, bool):
            raise RecipeError(f"mask inverted must be true or false, not {self.inverted!r}")
        _checked(number, self.density, "mask density", 0.0, 1.0)
        _checked(number, self.feather, "mask feather", 0.0, 1.0)
        _checked(number, self.grow, "mask grow", -1.0, 1.0)
        if not isinstance(self.uid, str) or not self.uid:
            raise RecipeError(f"mask uid must be a non-empty string, not {self.uid!r}")
        if not isinstance(self.derived, dict):
            raise RecipeError("mask derived state must be a JSON object")
        _checked(check_params, self.kind, self.params)

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
        d = _known_keys(d, cls.__dataclass_fields__, "mask component")
        if "kind" not in d:
            raise RecipeError("a mask component needs a kind")
        comp = cls(**d)
        comp.params = comp.params if comp.params is not None else {}
        comp.derived = comp.derived if comp.derived is not None else {}
        comp.validate()
        comp.params = copy.deepcopy(comp.params)
        comp.derived = copy.deepcopy(comp.derived)
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
        d = _known_keys(d, ("schema_version", "components"), "mask definition")
        components = d.get("components", [])
        if not isinstance(components, list):
            raise RecipeError("mask components must be a list")
        return cls([MaskComponent.from_dict(c) for c in components])


def _migrate(d: dict[str, Any], version: int) -> dict[str, Any]:
    """A stored recipe dict of an older schema, in the current one.

    1 -> 2: schema 2 only adds curve values (lists of points); every schema-1 value is
    a number and stays one (check_adjustments reads it as a float), so a schema-1 recipe
    is a valid schema-2 recipe and renders exactly as before.  Later versions add their
    steps here.
    """
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
        d = _known_keys(d, ("name", "enabled", "opacity", "adjustments", "mask"), "layer")
        if not isinstance(d.get("name"), str) or not d["name"].strip():
            raise RecipeError("a layer needs a name")
        name = d["name"]
        enabled = d.get("enabled", True)
        if not isinstance(enabled, bool):
            raise RecipeError(f"layer {name!r}: enabled must be true or false, not {enabled!r}")
        try:
            opacity = number(d.get("opacity", 1.0), "opacity", 0.0, 1.0)
            adjustments = check_adjustments(d.get("adjustments") or {})
        except InvalidValue as exc:
            raise RecipeError(f"layer {name!r}: {exc}") from None
        return cls(name=name, enabled=enabled, opacity=opacity, adjustments=adjustments,
                   mask=MaskDefinition.from_dict(d.get("mask")))


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
        d = _known_keys(d, ("schema_version", "settings", "layers"), "recipe")
        version = _checked(number, d.get("schema_version", SCHEMA_VERSION), "recipe schema_version", 1, None)
        if version > SCHEMA_VERSION:
            raise RecipeError(f"recipe schema {version:g} is newer than this maskroom ({SCHEMA_VERSION})")
        d = _migrate(d, int(version))
        layers = d.get("layers", [])
        if not isinstance(layers, list):
            raise RecipeError("recipe layers must be a list")
        layers = [Layer.from_dict(x) for x in layers] or [Layer("Global")]
        if layers[0].mask is not None:
            raise RecipeError("the first layer is the global layer and cannot have a mask")
        settings = _checked(check_settings, d.get("settings") or {})
        return cls(layers=layers, settings=copy.deepcopy(settings))

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
