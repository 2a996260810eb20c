"""RAW white balance: presets, Kelvin/tint and a neutral-point picker, as LibRaw multipliers.

Recipe settings (``settings["raw"]``):

* ``white_balance``: ``camera`` (as shot, the default), ``auto`` (LibRaw's grey
  world), a preset (``daylight`` 5500 K, ``cloudy`` 6500 K, ``shade`` 7500 K,
  ``tungsten`` 2850 K, ``fluorescent`` 3800 K, ``flash`` 5500 K, Lightroom's values),
  ``kelvin`` (``temperature`` 2000..50000 K and ``tint`` -150..150, + = magenta),
  or ``custom`` (``wb_multipliers`` [r, g, b], what the picker stores).
* A temperature becomes the white point's chromaticity (CIE daylight locus from
  4000 K up, the Planckian locus below), which the camera's own XYZ->camera matrix
  (from LibRaw) turns into channel multipliers, exactly as LibRaw derives its
  daylight multipliers from that matrix.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from maskroom.core.errors import InvalidValue
from maskroom.core.values import register_setting

PRESET_KELVIN = {"daylight": 5500.0, "cloudy": 6500.0, "shade": 7500.0, "tungsten": 2850.0,
                 "fluorescent": 3800.0, "flash": 5500.0}
MODES = ("camera", "auto", *PRESET_KELVIN, "kelvin", "custom")
KELVIN_RANGE = (2000.0, 50000.0)
TINT_RANGE = (-150.0, 150.0)
TINT_EV = 0.5  # tint 150 = half a stop less green
# sRGB primaries -> XYZ (D65): dcraw's xyz_rgb, used to recover the camera matrix
XYZ_RGB = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169],
                    [0.019334, 0.119193, 0.950227]])


class WhiteBalanceError(InvalidValue):
    """Raw white-balance settings or a pick that cannot be used (message fits one line)."""


def kelvin_to_xy(kelvin: float) -> tuple[float, float]:
    """Chromaticity of a white of colour temperature ``kelvin``: the CIE daylight locus
    from 4000 K (photographic daylight), Kim et al.'s Planckian fit below (tungsten)."""
    t = float(np.clip(kelvin, 1667.0, 25000.0))
    if t >= 4000.0:
        if t <= 7000.0:
            x = 0.244063 + 0.09911e3 / t + 2.9678e6 / t ** 2 - 4.6070e9 / t ** 3
        else:
            x = 0.237040 + 0.24748e3 / t + 1.9018e6 / t ** 2 - 2.0064e9 / t ** 3
        return x, -3.000 * x * x + 2.870 * x - 0.275
    x = -0.2661239e9 / t ** 3 - 0.2343589e6 / t ** 2 + 0.8776956e3 / t + 0.179910
    if t <= 2222.0:
        y = -1.1063814 * x ** 3 - 1.34811020 * x ** 2 + 2.18555832 * x - 0.20219683
    else:
        y = -0.9549476 * x ** 3 - 1.37418593 * x ** 2 + 2.09137015 * x - 0.16748867
    return x, y


def multipliers_for(cam_xyz: np.ndarray, kelvin: float, tint: float = 0.0) -> list[float]:
    """Channel multipliers [r, g, b] (g = 1) that make a white of ``kelvin`` neutral."""
    x, y = kelvin_to_xy(kelvin)
    xyz = np.array([x / y, 1.0, (1.0 - x - y) / y])
    cam = np.asarray(cam_xyz, np.float64)[:3, :3] @ xyz
    if np.any(cam <= 0):
        raise WhiteBalanceError(f"{kelvin:g} K falls outside this camera's colour matrix")
    mul = 1.0 / cam
    mul /= mul[1]
    mul[1] *= 2.0 ** (-TINT_EV * float(tint) / 150.0)
    return [float(v) for v in mul]


def camera_xyz(raw) -> np.ndarray:
    """The XYZ -> camera matrix of an open rawpy file.

    LibRaw fills ``rgb_xyz_matrix`` for most cameras; for DNGs it may leave it empty
    and keep only ``color_matrix`` (camera -> sRGB, rows normalised) and the daylight
    multipliers it derived, from which the matrix is recovered (dcraw's derivation
    run backwards)."""
    m = np.asarray(raw.rgb_xyz_matrix, np.float64)[:3, :3]
    if np.abs(m).sum() > 0:
        return m
    rgb_cam = np.asarray(raw.color_matrix, np.float64)[:3, :3]
    pre = np.asarray(raw.daylight_whitebalance, np.float64)[:3]
    if np.abs(rgb_cam).sum() == 0 or np.any(pre <= 0):
        raise WhiteBalanceError("the file has no colour matrix: use camera, auto or a picked white balance")
    return np.diag(1.0 / pre) @ np.linalg.inv(rgb_cam) @ np.linalg.inv(XYZ_RGB)


def _finite(value: Any, what: str, lo: float, hi: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise WhiteBalanceError(f"raw.{what} must be a number, not {value!r}") from None
    if not (math.isfinite(v) and lo <= v <= hi):
        raise WhiteBalanceError(f"raw.{what} must be within {lo:g}..{hi:g}, not {value!r}")
    return v


def wb_spec(raw_settings: dict[str, Any]) -> str | tuple:
    """The validated white balance of ``settings["raw"]`` as a hashable decode key:
    ``"camera"``, ``"auto"``, ``("kelvin", K, tint)`` or ``("custom", r, g, b)``."""
    mode = str(raw_settings.get("white_balance", "camera"))
    if mode not in MODES:
        raise WhiteBalanceError(f"raw.white_balance must be one of {', '.join(MODES)}, not {mode!r}")
    if mode in ("camera", "auto"):
        return mode
    if mode in PRESET_KELVIN:
        return ("kelvin", PRESET_KELVIN[mode], 0.0)
    if mode == "kelvin":
        return ("kelvin", _finite(raw_settings.get("temperature", 5500), "temperature", *KELVIN_RANGE),
                _finite(raw_settings.get("tint", 0), "tint", *TINT_RANGE))
    mul = raw_settings.get("wb_multipliers")
    if not isinstance(mul, (list, tuple)) or len(mul) != 3:
        raise WhiteBalanceError(f"raw.wb_multipliers must be [r, g, b], not {mul!r}")
    return ("custom", *(_finite(v, "wb_multipliers", 0.05, 20.0) for v in mul))


RAW_SETTINGS = ("white_balance", "highlight_mode", "temperature", "tint", "wb_multipliers")
HIGHLIGHT_MODES = ("clip", "ignore", "blend", "reconstruct")


def check_raw_settings(value: Any) -> dict[str, Any]:
    """``settings["raw"]`` as a recipe may hold it: known keys, a valid white balance
    (wb_spec) and highlight mode; the check core/values.py runs at the door."""
    if not isinstance(value, dict):
        raise WhiteBalanceError(f"raw settings must be an object, not {value!r}")
    unknown = set(value) - set(RAW_SETTINGS)
    if unknown:
        raise WhiteBalanceError(f"unknown raw setting(s): {', '.join(sorted(map(str, unknown)))}")
    wb_spec(value)
    if value.get("highlight_mode", "clip") not in HIGHLIGHT_MODES:
        raise WhiteBalanceError(f"raw.highlight_mode must be one of {', '.join(HIGHLIGHT_MODES)}, "
                                f"not {value['highlight_mode']!r}")
    return dict(value)


register_setting("raw", check_raw_settings)


def postprocess_wb(raw, spec: str | tuple) -> dict[str, Any]:
    """rawpy ``postprocess`` keyword arguments for a ``wb_spec``."""
    if spec == "camera":
        return {"use_camera_wb": True}
    if spec == "auto":
        return {"use_auto_wb": True}
    if spec[0] == "kelvin":
        r, g, b = multipliers_for(camera_xyz(raw), spec[1], spec[2])
    else:
        r, g, b = spec[1:]
    return {"user_wb": [r, g, b, g]}


def check_point(x: float, y: float) -> None:
    """A white-balance pick's point, normalised on the photo: within 0..1 on both axes."""
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise WhiteBalanceError(f"the picked point must lie within 0..1, not {x:g},{y:g}")


def pick_multipliers(path: Path, x: float, y: float) -> list[float]:
    """Multipliers [r, g, b] that make the photo's pixel at normalised (x, y) (upright
    frame, 5 x 5 average at half size) neutral: the white-balance eyedropper."""
    import rawpy  # heavy optional binding: imported where used

    check_point(x, y)
    try:
        with rawpy.imread(str(path)) as raw:
            cam = raw.postprocess(gamma=(1, 1), no_auto_bright=True, output_bps=16, user_wb=[1.0, 1.0, 1.0, 1.0],
                                  output_color=rawpy.ColorSpace.raw, half_size=True)
    except Exception as exc:  # rawpy raises LibRawError subclasses and IOError
        raise WhiteBalanceError(f"{path}: cannot decode RAW: {exc}") from None
    h, w = cam.shape[:2]
    cx, cy = min(w - 1, int(x * w)), min(h - 1, int(y * h))
    patch = cam[max(0, cy - 2):cy + 3, max(0, cx - 2):cx + 3].reshape(-1, 3).astype(np.float64)
    if patch.max() >= 65000:
        raise WhiteBalanceError(f"{path}: the picked point is clipped; pick a lighter grey that is not white")
    mean = patch.mean(axis=0)
    if mean.min() < 64:
        raise WhiteBalanceError(f"{path}: the picked point is too dark to judge its colour")
    return [float(mean[1] / mean[0]), 1.0, float(mean[1] / mean[2])]
