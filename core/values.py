"""The one validation layer for values that enter maskroom: checked once, at the door.

Recipes, layers, adjustments, mask components (per-kind parameter schemas), global
settings (straighten, crop, raw), presets and CLI ``--set`` values all pass through
these checks - ``core.recipe``'s ``from_dict``/``validate`` call them, and every
path into the catalog builds its recipe through those.  A value that is NaN or
infinite, of the wrong type, out of its documented range, or under an unknown key
is refused with a one-line ``InvalidValue`` naming the key and the reason; nothing
bad is stored, so nothing bad reaches a render later.

Adjustment ranges live with the adjustments (``engine/develop/adjustments``): its
``adjustment`` decorator registers each key here (``register_adjustment``), so a new
adjustment is validated without touching this file.  Before the develop engine is
imported (a catalog-only process) adjustment keys are only checked to be finite
numbers; every front end imports the engine.
"""
from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable
from typing import Any

from maskroom.core.errors import InvalidValue

# key -> (lo, hi) of every develop adjustment, filled by the develop engine.
ADJUSTMENT_RANGES: dict[str, tuple[float, float]] = {}
# Keys that parametrise another adjustment (color_hue for color_amount): key -> (lo, hi, doc).
ADJUSTMENT_PARAMETERS: dict[str, tuple[float, float, str]] = {}


# Keys whose value is a curve (``curve.points``, ``curve.red``...): key -> doc, filled by
# the develop engine's modules.  A curve is at most MAX_CURVE_POINTS [x, y] points in
# 0..1 with strictly increasing x.
CURVE_KEYS: dict[str, str] = {}
MAX_CURVE_POINTS = 16


def register_adjustment(name: str, lo: float, hi: float) -> None:
    ADJUSTMENT_RANGES[name] = (float(lo), float(hi))


def settable_keys() -> set[str]:
    """Every adjustment key a recipe, a preset or ``edit --set`` accepts."""
    return set(ADJUSTMENT_RANGES) | set(ADJUSTMENT_PARAMETERS) | set(CURVE_KEYS)


# -- numbers --------------------------------------------------------------------
# The largest id (image, version, series, collection, session) and the largest whole
# number a filter compares: the catalog's INTEGER columns are 32 bits on PostgreSQL.
MAX_ID = 2**31 - 1


def number(value: Any, what: str, lo: float | None = None, hi: float | None = None, *,
           integer: bool = False, lo_open: bool = False) -> float:
    """``value`` as a finite float (int when ``integer``) within lo..hi, or InvalidValue.

    Booleans and strings are refused: ``"0.5"`` in JSON is a mistake, not a number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValue(f"{what} must be a number, not {value!r}")
    try:
        f = float(value)
    except OverflowError:  # an int too large for a float
        raise InvalidValue(f"{what}: {value!r} is not a finite number") from None
    if not math.isfinite(f):
        raise InvalidValue(f"{what}: {value!r} is not a finite number")
    if integer and f != int(value):
        raise InvalidValue(f"{what} must be a whole number, not {value!r}")
    if (lo is not None and (f < lo or (lo_open and f == lo))) or (hi is not None and f > hi):
        rng = f"{'>' if lo_open else ''}{lo:g}..{hi:g}" if lo is not None and hi is not None else (
            f"{'>' if lo_open else '>='} {lo:g}" if lo is not None else f"<= {hi:g}")
        raise InvalidValue(f"{what} {value!r} is outside {rng}")
    return int(value) if integer else f


def parse_number(text: str, what: str, lo: float | None = None, hi: float | None = None) -> float:
    """A number typed on a command line (``--set exposure=+0.7``), checked like any other."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InvalidValue(f"{what}: {text!r} is not a number") from None
    return number(value, what, lo, hi)


def points(value: Any, what: str, lo: float, hi: float, *, minimum: int = 1) -> list[list[float]]:
    if not isinstance(value, (list, tuple)):
        raise InvalidValue(f"{what} must be a list of [x, y] points, not {type(value).__name__}")
    out = []
    for i, p in enumerate(value):
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise InvalidValue(f"{what}[{i}] must be an [x, y] pair, not {p!r}")
        out.append([number(p[0], f"{what}[{i}] x", lo, hi), number(p[1], f"{what}[{i}] y", lo, hi)])
    if len(out) < minimum:
        raise InvalidValue(f"{what} needs at least {minimum} points, got {len(out)}")
    return out


def _boolean(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(f"{what} must be true or false, not {value!r}")
    return value


def box(value: Any, what: str) -> list[float]:
    """[x0, y0, x1, y1] inside 0..1 with x0 <= x1, y0 <= y1 (not inverted)."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise InvalidValue(f"{what} must be 4 numbers [x0, y0, x1, y1], not {value!r}")
    x0, y0, x1, y1 = (number(v, what, 0.0, 1.0) for v in value)
    if x0 > x1 or y0 > y1:
        raise InvalidValue(f"{what} is inverted (x0 > x1 or y0 > y1): {list(value)!r}")
    return [x0, y0, x1, y1]


# -- adjustments ----------------------------------------------------------------
def check_curve(key: str, value: Any) -> list[list[float]]:
    """A curve as stored: at most MAX_CURVE_POINTS [x, y] points in 0..1, x strictly increasing."""
    pts = points(value, key, 0.0, 1.0, minimum=0)
    if len(pts) > MAX_CURVE_POINTS:
        raise InvalidValue(f"{key} has {len(pts)} points; at most {MAX_CURVE_POINTS}")
    for (xa, _), (xb, _) in zip(pts, pts[1:]):
        if xb <= xa:
            raise InvalidValue(f"{key}: x must increase from point to point ({xa:g} then {xb:g})")
    return pts


def check_adjustments(adjustments: Any, where: str = "adjustments") -> dict[str, float | list[list[float]]]:
    """Known keys; numbers finite and within their registered ranges, curves well formed."""
    if not isinstance(adjustments, dict):
        raise InvalidValue(f"{where} must be an object of name: number, not {type(adjustments).__name__}")
    out: dict[str, float | list[list[float]]] = {}
    known = bool(ADJUSTMENT_RANGES)
    for key, value in adjustments.items():
        key = str(key)
        if key in CURVE_KEYS or (not known and isinstance(value, (list, tuple))):
            out[key] = check_curve(key, value)
            continue
        rng = ADJUSTMENT_RANGES.get(key) or (ADJUSTMENT_PARAMETERS[key][:2] if key in ADJUSTMENT_PARAMETERS else None)
        if rng is None and known:
            near = difflib.get_close_matches(key, sorted(settable_keys()), n=3)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise InvalidValue(f"unknown adjustment {key!r} ({hint}the keys are listed in docs/develop.md)")
        lo, hi = rng if rng else (None, None)
        out[key] = number(value, f"adjustment {key}", lo, hi)
    return out


def parse_adjustment(key: str, text: str) -> float | list[list[float]]:
    """A ``--set KEY=VALUE`` value: a number, or for a curve key a JSON list of [x, y]
    points (``curve.points=[[0,0],[0.25,0.2],[1,1]]``); checked like any recipe value."""
    text = text.strip()
    if key in CURVE_KEYS:
        try:
            value = json.loads(text) if text.lower() not in ("", "none") else []
        except ValueError:
            raise InvalidValue(f"--set {key}: {text!r} is not a JSON list of [x, y] points") from None
    else:
        value = parse_number(text, f"--set {key}")
    return check_adjustments({key: value})[key]


# -- global settings ----------------------------------------------------------
RAW_WHITE_BALANCE = ("camera", "auto")
RAW_HIGHLIGHT_MODES = ("clip", "ignore", "blend", "reconstruct")


def _straighten(value: Any) -> float:
    return number(value, "straighten", -45.0, 45.0)


def _crop(value: Any) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"x0", "y0", "x1", "y1"}:
        raise InvalidValue(f"crop must be {{x0, y0, x1, y1}}, not {value!r}")
    c = {k: number(value[k], f"crop {k}", 0.0, 1.0) for k in ("x0", "y0", "x1", "y1")}
    if not (c["x0"] < c["x1"] and c["y0"] < c["y1"]):
        raise InvalidValue(f"crop must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, not {value}")
    return c


def _raw(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidValue(f"raw settings must be an object, not {value!r}")
    unknown = set(value) - {"white_balance", "highlight_mode"}
    if unknown:
        raise InvalidValue(f"unknown raw setting(s): {', '.join(sorted(map(str, unknown)))}")
    if value.get("white_balance", "camera") not in RAW_WHITE_BALANCE:
        raise InvalidValue(f"raw.white_balance must be one of {', '.join(RAW_WHITE_BALANCE)}, "
                           f"not {value['white_balance']!r}")
    if value.get("highlight_mode", "clip") not in RAW_HIGHLIGHT_MODES:
        raise InvalidValue(f"raw.highlight_mode must be one of {', '.join(RAW_HIGHLIGHT_MODES)}, "
                           f"not {value['highlight_mode']!r}")
    return dict(value)


# Global (non-layer) recipe settings: key -> check returning the normalised value.
# A new setting registers its check here (register_setting) and is validated at once.
SETTINGS: dict[str, Callable[[Any], Any]] = {"straighten": _straighten, "crop": _crop, "raw": _raw}


def register_setting(name: str, check: Callable[[Any], Any]) -> None:
    SETTINGS[name] = check


def check_settings(settings: Any) -> dict[str, Any]:
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise InvalidValue(f"recipe settings must be an object, not {type(settings).__name__}")
    out = {}
    for key, value in settings.items():
        check = SETTINGS.get(key)
        if check is None:
            raise InvalidValue(f"unknown recipe setting {key!r} (known: {', '.join(sorted(SETTINGS))})")
        checked = check(value)
        if checked is not None:
            out[key] = checked
    return out


# -- user preferences (catalog settings the CLI and the app share) ---------------
LENS_DEFAULTS = ("auto", "off")


def check_lens_default(value: Any) -> str:
    """``develop.lens_default``: lens corrections for a photo whose edit says nothing
    about them - ``auto`` (from its EXIF lens, when lensfun has a profile) or ``off``."""
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in LENS_DEFAULTS:
        raise InvalidValue(f"lens default must be one of {', '.join(LENS_DEFAULTS)}, not {value!r}")
    return text


# -- IPTC text fields (the metadata panel, `maskroom meta`, XMP dc:*) ------------
# field -> the most characters it holds (the catalog's column length).  IPTC IIM's own
# limits are shorter (ObjectName 64, By-line 32, Copyright 128); the export writer cuts
# to those, XMP has none.
IPTC_FIELDS: dict[str, int] = {"title": 256, "caption": 2000, "creator": 256, "copyright": 512}
_MULTILINE = frozenset({"caption"})  # a caption may have paragraphs; the rest are one line


def _bad_char(ch: str, multiline: bool) -> bool:
    o = ord(ch)
    if multiline and ch in "\n\t":
        return False
    return o < 32 or 0x7F <= o < 0xA0 or ch in "\u2028\u2029"


def check_iptc(name: str, value: Any) -> str | None:
    """A title/caption/creator/copyright typed by a person: text without control
    characters within the field's length, trimmed; empty or None clears it (None)."""
    if name not in IPTC_FIELDS:
        raise InvalidValue(f"unknown metadata field {name!r} (known: {', '.join(IPTC_FIELDS)})")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"{name} must be text, not {type(value).__name__}")
    text = value.replace("\r\n", "\n").strip()
    bad = next((ch for ch in text if _bad_char(ch, name in _MULTILINE)), None)
    if bad is not None:
        raise InvalidValue(f"{name} contains a control character ({ord(bad):#04x})")
    if len(text) > IPTC_FIELDS[name]:
        raise InvalidValue(f"{name} is {len(text)} characters long; at most {IPTC_FIELDS[name]}")
    return text or None


def clean_iptc(name: str, value: Any) -> str | None:
    """The same field read from a file (EXIF, an XMP sidecar, a Lightroom catalog): what
    another program wrote is tidied, not refused: control characters become spaces and
    the text is cut to the field's length."""
    if not isinstance(value, str):
        return None
    multiline = name in _MULTILINE
    text = "".join(" " if _bad_char(ch, multiline) else ch for ch in value.replace("\r\n", "\n")).strip()
    return text[:IPTC_FIELDS[name]].strip() or None


# -- mask component parameters ------------------------------------------------
# Gradient geometry may lie outside the frame (a linear gradient that starts above
# it), but not absurdly far; prompts (boxes, lassos, points) lie inside it.
FAR = 10.0


def _coord(v, what):
    return number(v, what, -FAR, FAR)


def _unit(v, what):
    return number(v, what, 0.0, 1.0)


def _radius(v, what):
    return number(v, what, 0.0, FAR, lo_open=True)


def _angle(v, what):
    return number(v, what, -360.0, 360.0)


def _stroke(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidValue(f"{what} must be an object {{points, size, feather, flow, erase}}, not {value!r}")
    unknown = set(value) - {"points", "size", "feather", "flow", "erase"}
    if unknown:
        raise InvalidValue(f"{what}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    out = dict(value)
    out["points"] = points(value.get("points", []), f"{what} points", -FAR, FAR, minimum=1)
    if "size" in value:
        out["size"] = number(value["size"], f"{what} size", 0.0, 1.0, lo_open=True)
    for key in ("feather", "flow"):
        if key in value:
            out[key] = _unit(value[key], f"{what} {key}")
    if "erase" in value:
        out["erase"] = _boolean(value["erase"], f"{what} erase")
    return out


def _strokes(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidValue(f"{what} must be a list of strokes, not {type(value).__name__}")
    return [_stroke(s, f"{what}[{i}]") for i, s in enumerate(value)]


def _person(value: Any, what: str) -> int:
    return int(number(value, what, 0, 999, integer=True))


def _ref(value: Any, what: str) -> list[float]:
    return points([value], what, 0.0, 1.0)[0]


def _colors(value: Any, what: str) -> list[list[float]]:
    if not isinstance(value, list) or not value:
        raise InvalidValue(f"{what} must be a non-empty list of [r, g, b] (0..1), not {value!r}")
    out = []
    for i, c in enumerate(value):
        if not isinstance(c, (list, tuple)) or len(c) != 3:
            raise InvalidValue(f"{what}[{i}] must be [r, g, b], not {c!r}")
        out.append([_unit(x, f"{what}[{i}]") for x in c])
    return out


# "ref": the point a Lightroom AI mask was picked at (crs ReferencePoint), kept so the
# sidecar written back names the same subject; sync moves it with the frame.
_AI = {"refine": _boolean, "pack": _boolean, "people": _boolean, "ref": _ref}
_PERSON = {**_AI, "person": _person}
_PROMPT = {"box": box, "lasso": lambda v, w: points(v, w, 0.0, 1.0, minimum=3)}

# kind -> {param: check(value, what) -> normalised value}; required params per kind.
PARAM_SCHEMAS: dict[str, dict[str, Callable[[Any, str], Any]]] = {
    "radial": {"cx": _coord, "cy": _coord, "rx": _radius, "ry": _radius, "angle": _angle, "feather": _unit},
    "linear": {"x0": _coord, "y0": _coord, "x1": _coord, "y1": _coord},
    "brush": {"strokes": _strokes},
    "color-range": {"colors": _colors, "points": lambda v, w: points(v, w, 0.0, 1.0),
                    "tolerance": lambda v, w: number(v, w, 0.0, 200.0, lo_open=True)},
    "luminance-range": {"min": _unit, "max": _unit, "feather": _unit},
    "all": {},
    "object": {**_AI, **_PROMPT},
    "subject": dict(_AI),
    "sky": dict(_AI),
    "background": dict(_AI),
}
for _kind in ("person", "face-skin", "body-skin", "eyebrows", "sclera", "iris", "lips", "teeth", "hair", "clothes"):
    PARAM_SCHEMAS[_kind] = dict(_PERSON)
REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {"linear": ("x0", "y0", "x1", "y1")}


def check_params(kind: str, params: Any) -> dict[str, Any]:
    """A mask component's params for ``kind``: known keys, right types, finite, in range."""
    if not isinstance(params, dict):
        raise InvalidValue(f"{kind} mask params must be a JSON object, not {type(params).__name__}")
    schema = PARAM_SCHEMAS.get(kind, _AI)
    unknown = sorted(set(map(str, params)) - set(schema))
    if unknown:
        known = ", ".join(sorted(schema)) or "none"
        raise InvalidValue(f"{kind} mask: unknown param(s) {', '.join(unknown)} (known: {known})")
    out = {key: schema[key](value, f"{kind} mask param {key!r}") for key, value in params.items()}
    missing = [k for k in REQUIRED_PARAMS.get(kind, ()) if k not in out]
    if missing:
        raise InvalidValue(f"{kind} mask needs param(s) {', '.join(missing)}")
    if kind == "linear" and (out["x0"], out["y0"]) == (out["x1"], out["y1"]):
        raise InvalidValue("linear mask: start and end points must differ")
    if kind == "luminance-range" and out.get("min", 0.0) > out.get("max", 1.0):
        raise InvalidValue(f"luminance-range mask needs min <= max, not {out['min']}..{out['max']}")
    if kind == "object" and "box" not in out and "lasso" not in out:
        raise InvalidValue("object mask needs param 'box' [x0,y0,x1,y1] or 'lasso' [[x,y],...]")
    return out
