"""Lightroom / Camera Raw develop settings (the ``crs:`` namespace) <-> maskroom's Recipe.

Only honest mappings: a slider whose meaning matches maskroom's (same name, same
range or a fixed scale).  Everything else in a ``crs:`` block is listed by name in
``unmapped`` (shown per image by ``maskroom show`` and the import summary), never
dropped in silence.  docs/xmp.md has the table both ways.

Local corrections (``GradientBasedCorrections``, ``CircularGradientBasedCorrections``,
``MaskGroupBasedCorrections``) become masked layers: linear and radial gradients
keep their geometry, Lightroom's AI masks (``Mask/Image`` by ``MaskSubType``,
person parts by ``MaskSubCategoryID``, a person chosen by ``ReferencePoint``) become
maskroom AI components, derived again by maskroom's own models.  Values enter
through the develop pipeline's own check (``validate_adjustments``) and the
Recipe's; a value it refuses is a warning naming the file and the property.
"""
from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe, RecipeError
from maskroom.core.values import check_settings
from maskroom.engine.develop.pipeline import validate_adjustments
from maskroom.engine.xmp.fields import NS

CRS = NS["crs"]


def c(name: str) -> str:
    return f"{{{CRS}}}{name}"


def local_name(key: str) -> str:
    return key.rsplit("}", 1)[-1]


# Global sliders: crs name -> (maskroom adjustment, maskroom units per crs unit).
GLOBAL = {
    "Exposure2012": ("exposure", 1.0),
    "Contrast2012": ("contrast", 1.0),
    "Highlights2012": ("highlights", 1.0),
    "Shadows2012": ("shadows", 1.0),
    "Whites2012": ("whites", 1.0),
    "Blacks2012": ("blacks", 1.0),
    "Texture": ("texture", 1.0),
    "Clarity2012": ("clarity", 1.0),
    "Dehaze": ("dehaze", 1.0),
    "Vibrance": ("vibrance", 1.0),
    "Saturation": ("saturation", 1.0),
    "Sharpness": ("sharpness", 1.0),
    "LuminanceSmoothing": ("noise_reduction", 1.0),
    # Relative white balance: what Camera Raw writes for JPEG/TIFF (and maskroom's
    # sliders are relative to the file's as-shot balance too).
    "IncrementalTemperature": ("temperature", 1.0),
    "IncrementalTint": ("tint", 1.0),
}
# Local correction amounts are stored -1..1 (exposure -4..4 EV as -1..1).
LOCAL = {
    "LocalExposure2012": ("exposure", 4.0),
    "LocalContrast2012": ("contrast", 100.0),
    "LocalHighlights2012": ("highlights", 100.0),
    "LocalShadows2012": ("shadows", 100.0),
    "LocalWhites2012": ("whites", 100.0),
    "LocalBlacks2012": ("blacks", 100.0),
    "LocalTexture": ("texture", 100.0),
    "LocalClarity2012": ("clarity", 100.0),
    "LocalDehaze": ("dehaze", 100.0),
    "LocalSaturation": ("saturation", 100.0),
    "LocalTemperature": ("temperature", 100.0),
    "LocalTint": ("tint", 100.0),
    "LocalSharpness": ("sharpness", 100.0),
    "LocalLuminanceNoise": ("noise_reduction", 100.0),
}
GLOBAL_BACK = {v[0]: (k, v[1]) for k, v in GLOBAL.items()}
LOCAL_BACK = {v[0]: (k, v[1]) for k, v in LOCAL.items()}

# Lightroom AI masks: Mask/Image MaskSubType (and MaskSubCategoryID for person parts).
AI_SUBTYPES = {"1": "subject", "2": "sky", "3": "person"}
PERSON_PARTS = {"2": "face-skin", "3": "body-skin", "4": "eyebrows", "5": "sclera", "6": "iris", "7": "lips",
                "8": "teeth", "9": "hair", "10": "clothes"}
AI_BACK = {"subject": ("1", None), "sky": ("2", None), "person": ("3", None),
           **{kind: ("3", sub) for sub, kind in PERSON_PARTS.items()}}
BLEND_MODES = {"0": "add", "1": "subtract", "2": "intersect"}
BLEND_BACK = {v: k for k, v in BLEND_MODES.items()}
CORRECTIONS = ("GradientBasedCorrections", "CircularGradientBasedCorrections", "MaskGroupBasedCorrections")
CROP = ("HasCrop", "CropLeft", "CropTop", "CropRight", "CropBottom", "CropAngle")
WB = ("WhiteBalance", "Temperature", "Tint")
# Lightroom's white balance presets are the develop engine's (engine/develop/raw_wb.py: same kelvin).
WB_MODES = {"auto": "auto", "daylight": "daylight", "cloudy": "cloudy", "shade": "shade", "tungsten": "tungsten",
            "fluorescent": "fluorescent", "flash": "flash"}
# Never "unmapped": bookkeeping that describes the file, parameters of an effect whose
# amount is listed when it is on (grain size, vignette midpoint...), hues without their
# amount, and the camera profile / look every Lightroom file names (docs/xmp.md says
# profiles are never mapped).
IGNORED = {"Version", "ProcessVersion", "HasSettings", "AlreadyApplied", "RawFileName", "CropConstrainToWarp",
           "CropUnit", "CropWidth", "CropHeight", "CameraProfile", "CameraProfileDigest", "OverrideLookVignette",
           "ToneCurveName2012", "ToneCurveName", "SupportsAmount", "SupportsColor", "SupportsMonochrome",
           "SupportsHighDynamicRange", "SupportsNormalDynamicRange", "SupportsSceneReferred",
           "SupportsOutputReferred", "CompatibleVersion", "Copyright", "Name", "ShortName", "SortName", "Group",
           "UUID", "PresetType", "Cluster", "HDREditMode", "UprightVersion", "EnableMaskGroupBasedCorrections",
           "EnableCircularGradientBasedCorrections", "EnableGradientBasedCorrections",
           "EnablePaintBasedCorrections", "EnableRetouch", "EnableRedEye", "DefringePurpleHueLo",
           "DefringePurpleHueHi", "DefringeGreenHueLo", "DefringeGreenHueHi", "ColorNoiseReductionDetail",
           "ColorNoiseReductionSmoothness", "SharpenRadius", "SharpenDetail", "SharpenEdgeMasking",
           "LuminanceNoiseReductionDetail", "LuminanceNoiseReductionContrast", "GrainSize", "GrainFrequency",
           "PostCropVignetteMidpoint", "PostCropVignetteFeather", "PostCropVignetteRoundness",
           "PostCropVignetteStyle", "PostCropVignetteHighlightContrast", "SplitToningBalance",
           "ColorGradeBlending", "ColorGradeGlobalHue", "ColorGradeMidtoneHue", "LookName", "Look"}


def _is_neutral(value: Any) -> bool:
    if isinstance(value, (list, dict)):
        return not value
    text = str(value).strip()
    try:
        return float(text) == 0.0
    except ValueError:
        return text in ("", "False", "false")


def _num(value: Any) -> float:
    x = float(str(value).strip())
    if not math.isfinite(x):
        raise ValueError("not finite")
    return x


class _Reader:
    def __init__(self, source: str, width: int, height: int):
        self.source, self.width, self.height = source, max(1, width), max(1, height)
        self.unmapped: list[str] = []
        self.warnings: list[str] = []

    def bad(self, prop: str, value: Any, why: str) -> None:
        self.warnings.append(f"{self.source}: crs:{prop}={str(value)[:40]!r} ignored ({why})")

    def adjustments(self, props: dict, table: dict, where: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, value in props.items():
            name = local_name(key)
            if not key.startswith(f"{{{CRS}}}") or name not in table:
                continue
            target, scale = table[name]
            try:
                amount = round(_num(value) * scale, 6)
                validate_adjustments({target: amount})  # the pipeline's own range check
            except ValueError as exc:  # RecipeError is a ValueError
                self.bad(name, value, str(exc))
                continue
            if amount != 0.0:
                out[target] = amount
        return out

    def white_balance(self, crs: dict) -> dict | None:
        """crs:WhiteBalance as a RAW decode white balance (Lightroom writes it for raw
        files; JPEGs get IncrementalTemperature/Tint, the relative sliders)."""
        wb = str(crs.get(c("WhiteBalance"), "As Shot")).strip()
        if wb == "As Shot":
            return None
        if wb.lower() in WB_MODES:
            out: dict[str, Any] = {"white_balance": WB_MODES[wb.lower()]}
        elif wb == "Custom":
            try:
                out = {"white_balance": "kelvin", "temperature": _num(crs[c("Temperature")]),
                       "tint": _num(crs.get(c("Tint"), 0))}
            except (KeyError, ValueError):
                self.bad("Temperature", crs.get(c("Temperature")), "Custom white balance needs a kelvin value")
                return None
        else:
            self.unmapped.append(f"crs:WhiteBalance={wb}")
            return None
        try:
            check_settings({"raw": out})  # the develop engine's own range check (2000..50000 K, tint +-150)
        except ValueError as exc:
            self.bad("WhiteBalance", wb, str(exc))
            return None
        return out

    # -- local corrections ------------------------------------------------------------------
    def component(self, mask: dict, where: str) -> MaskComponent | None:
        what = str(mask.get(c("What"), ""))
        params: dict[str, Any] = {}
        try:
            if what == "Mask/Gradient":
                kind = "linear"
                params = {"x0": _num(mask[c("FullX")]), "y0": _num(mask[c("FullY")]),
                          "x1": _num(mask[c("ZeroX")]), "y1": _num(mask[c("ZeroY")])}
            elif what == "Mask/CircularGradient":
                kind = "radial"
                top, left = _num(mask[c("Top")]), _num(mask[c("Left")])
                bottom, right = _num(mask[c("Bottom")]), _num(mask[c("Right")])
                long_edge = max(self.width, self.height)
                params = {"cx": (left + right) / 2, "cy": (top + bottom) / 2,
                          "rx": abs(right - left) / 2 * self.width / long_edge,
                          "ry": abs(bottom - top) / 2 * self.height / long_edge,
                          "angle": _num(mask.get(c("Angle"), 0)),
                          "feather": min(1.0, max(0.0, _num(mask.get(c("Feather"), 50)) / 100))}
            elif what == "Mask/Image":
                sub = str(mask.get(c("MaskSubType"), ""))
                kind = AI_SUBTYPES.get(sub)
                if kind == "person":
                    cat = str(mask.get(c("MaskSubCategoryID"), "")).strip()
                    if cat and cat not in ("0", "1"):
                        kind = PERSON_PARTS.get(cat)
                if kind is None:
                    self.unmapped.append(f"{where}: AI mask MaskSubType={sub}"
                                         f"{' MaskSubCategoryID=' + str(mask.get(c('MaskSubCategoryID'))) if mask.get(c('MaskSubCategoryID')) else ''}"
                                         " (no maskroom kind)")
                    return None
                ref = mask.get(c("ReferencePoint"))
                if ref and kind != "sky":
                    x, y = (float(v) for v in str(ref).split()[:2])
                    if not (0 <= x <= 1 and 0 <= y <= 1):
                        raise ValueError("ReferencePoint outside the image")
                    params["ref"] = [x, y]
            else:
                self.unmapped.append(f"{where}: {what or 'unknown'} mask ({mask.get(c('MaskName')) or 'unnamed'})")
                return None
            # The uid comes from the mask's own definition, so reading the same sidecar
            # (or catalog) again gives the same recipe, not a new history step.
            uid = hashlib.sha256(json.dumps([where, sorted((k, str(v)) for k, v in mask.items())]).encode()
                                 ).hexdigest()[:16]
            comp = MaskComponent(
                uid=uid, kind=kind, mode=BLEND_MODES.get(str(mask.get(c("MaskBlendMode"), "0")), "add"),
                inverted=str(mask.get(c("MaskInverted"), mask.get(c("Flipped"), "false"))).lower() == "true",
                params=params, density=min(1.0, max(0.0, _num(mask.get(c("MaskValue"), 1)))))
            comp.validate()
            return comp
        except (KeyError, ValueError, TypeError) as exc:
            self.bad(f"{where} {what}", mask.get(c("MaskName"), ""), f"bad geometry: {exc}")
            return None

    def layers(self, props: dict) -> list[Layer]:
        out: list[Layer] = []
        for prop in CORRECTIONS:
            items = props.get(c(prop))
            if items is None:
                continue
            if not isinstance(items, list):
                self.bad(prop, items, "not a list of corrections")
                continue
            for n, corr in enumerate(items, 1):
                if not isinstance(corr, dict):
                    continue
                name = str(corr.get(c("CorrectionName")) or f"{prop.replace('BasedCorrections', '')} {n}")[:200]
                where = f"crs:{prop}[{n}] {name!r}"
                masks = corr.get(c("CorrectionMasks"))
                comps = [x for x in (self.component(m, where) for m in (masks if isinstance(masks, list) else [])
                                     if isinstance(m, dict)) if x is not None]
                for key, value in corr.items():
                    lname = local_name(key)
                    if lname.startswith("Local") and lname not in LOCAL and not _is_neutral(value):
                        self.unmapped.append(f"{where}: crs:{lname}={value}")
                if not comps:
                    self.unmapped.append(f"{where}: no mask maskroom can derive; correction not applied")
                    continue
                if comps[0].mode != "add":
                    comps[0].mode = "add"
                try:
                    opacity = min(1.0, max(0.0, _num(corr.get(c("CorrectionAmount"), 1))))
                except ValueError:
                    opacity = 1.0
                out.append(Layer(name=name, enabled=str(corr.get(c("CorrectionActive"), "true")).lower() != "false",
                                 opacity=opacity, adjustments=self.adjustments(corr, LOCAL, where),
                                 mask=MaskDefinition(comps)))
        return out


def recipe_from_crs(props: dict[str, Any], source: str, width: int = 1, height: int = 1
                    ) -> tuple[Recipe | None, list[str], list[str]]:
    """(recipe or None when the packet holds no develop settings, unmapped, warnings)."""
    crs = {k: v for k, v in props.items() if k.startswith(f"{{{CRS}}}")}
    if not crs:
        return None, [], []
    r = _Reader(source, width, height)
    recipe = Recipe()
    recipe.global_layer.adjustments = r.adjustments(crs, GLOBAL, "crs")
    raw_wb = r.white_balance(crs)
    if raw_wb:
        recipe.settings["raw"] = raw_wb
    if str(crs.get(c("HasCrop"), "False")).lower() == "true":
        try:
            settings = {"crop": {k: _num(crs[c(n)]) for k, n in
                                 (("x0", "CropLeft"), ("y0", "CropTop"), ("x1", "CropRight"), ("y1", "CropBottom"))},
                        "straighten": -_num(crs.get(c("CropAngle"), 0))}
            check_settings(settings)  # the one settings check (core/values)
            if settings["crop"] == {"x0": 0, "y0": 0, "x1": 1, "y1": 1}:
                del settings["crop"]
            if not settings["straighten"]:
                del settings["straighten"]
            recipe.settings.update(settings)
        except (KeyError, ValueError) as exc:
            r.bad("Crop", crs.get(c("CropLeft")), str(exc))
    recipe.layers += r.layers(crs)
    known = set(GLOBAL) | set(CROP) | set(WB) | set(CORRECTIONS) | IGNORED
    for key, value in sorted(crs.items()):
        name = local_name(key)
        if name not in known and not _is_neutral(value):
            r.unmapped.append(f"crs:{name}" + ("" if isinstance(value, (list, dict)) else f"={str(value)[:40]}"))
    try:
        recipe = Recipe.from_dict(recipe.to_dict())  # the Recipe's own checks, once more
    except RecipeError as exc:
        r.warnings.append(f"{source}: develop settings ignored ({exc})")
        return None, r.unmapped, r.warnings
    return recipe, r.unmapped, r.warnings


# -- maskroom -> crs ---------------------------------------------------------------------------

def _local_fmt(x: float) -> str:
    return f"{x:.6f}"


def crs_from_recipe(recipe: Recipe, width: int = 1, height: int = 1) -> tuple[dict[str, Any], list[str]]:
    """A best-effort crs: projection of the edit (global sliders, crop, masks) and what
    it could not carry.  Values are strings; corrections are lists of dicts."""
    out: dict[str, Any] = {}
    lossy: list[str] = []
    for key, value in recipe.global_layer.adjustments.items():
        if key in GLOBAL_BACK:
            name, scale = GLOBAL_BACK[key]
            v = value / scale  # spelled as Lightroom spells it: "+1.00", "+12", "-40", "0"
            out[c(name)] = f"{v:+.2f}" if name == "Exposure2012" else (f"{round(v):+d}" if round(v) else "0")
        elif value:
            lossy.append(f"global {key}={value:g} (no Lightroom slider)")
    st = recipe.settings
    raw = st.get("raw") or {}
    mode = raw.get("white_balance", "camera")
    if mode == "camera":
        pass  # As Shot: written only over a sidecar that said otherwise (write._keep_spelling)
    elif mode == "kelvin":
        out.update({c("WhiteBalance"): "Custom", c("Temperature"): str(int(round(float(raw["temperature"])))),
                    c("Tint"): f"{round(float(raw.get('tint', 0))):+d}"})
    elif mode in WB_MODES.values():
        out[c("WhiteBalance")] = mode.capitalize()
    else:
        lossy.append(f"white balance {mode} (picked multipliers; Lightroom takes kelvin)")
    crop = st.get("crop")
    if crop or st.get("straighten"):
        crop = crop or {"x0": 0.0, "y0": 0.0, "x1": 1.0, "y1": 1.0}
        out.update({c("HasCrop"): "True", c("CropLeft"): _local_fmt(crop["x0"]), c("CropTop"): _local_fmt(crop["y0"]),
                    c("CropRight"): _local_fmt(crop["x1"]), c("CropBottom"): _local_fmt(crop["y1"]),
                    c("CropAngle"): _local_fmt(-float(st.get("straighten", 0.0) or 0.0))})
    long_edge = max(width, height, 1)
    corrections = []
    for layer in recipe.layers[1:]:
        masks = []
        for comp in (layer.mask.components if layer.mask else []):
            m: dict[str, Any] = {c("What"): "", c("MaskActive"): "true", c("MaskName"): f"{comp.kind} {comp.uid[:6]}",
                                 c("MaskBlendMode"): BLEND_BACK[comp.mode],
                                 c("MaskInverted"): "true" if comp.inverted else "false",
                                 c("MaskValue"): _local_fmt(comp.density)}
            p = comp.params
            if comp.kind == "linear":
                m.update({c("What"): "Mask/Gradient", c("FullX"): _local_fmt(p["x0"]), c("FullY"): _local_fmt(p["y0"]),
                          c("ZeroX"): _local_fmt(p["x1"]), c("ZeroY"): _local_fmt(p["y1"])})
            elif comp.kind == "radial":
                rx = float(p.get("rx", 0.25)) * long_edge / max(width, 1)
                ry = float(p.get("ry", 0.25)) * long_edge / max(height, 1)
                cx, cy = float(p.get("cx", 0.5)), float(p.get("cy", 0.5))
                m.update({c("What"): "Mask/CircularGradient", c("Top"): _local_fmt(cy - ry), c("Left"): _local_fmt(cx - rx),
                          c("Bottom"): _local_fmt(cy + ry), c("Right"): _local_fmt(cx + rx),
                          c("Angle"): _local_fmt(float(p.get("angle", 0.0))),
                          c("Feather"): _local_fmt(float(p.get("feather", 0.5)) * 100), c("Midpoint"): "50.000000",
                          c("Roundness"): "0.000000", c("Flipped"): "false"})
            elif comp.kind in AI_BACK or comp.kind == "background":
                sub, cat = AI_BACK["subject" if comp.kind == "background" else comp.kind]
                m.update({c("What"): "Mask/Image", c("MaskSubType"): sub, c("MaskVersion"): "1"})
                if comp.kind == "background":
                    m[c("MaskInverted")] = "false" if comp.inverted else "true"
                if cat:
                    m[c("MaskSubCategoryID")] = cat
                if p.get("ref"):
                    m[c("ReferencePoint")] = f"{float(p['ref'][0]):.6f} {float(p['ref'][1]):.6f}"
            else:
                lossy.append(f"layer {layer.name!r}: {comp.kind} mask (no Lightroom equivalent)")
                continue
            masks.append(m)
        if not masks:
            lossy.append(f"layer {layer.name!r}: not projected (no mask Lightroom can show)")
            continue
        corr: dict[str, Any] = {c("What"): "Correction", c("CorrectionAmount"): _local_fmt(layer.opacity),
                                c("CorrectionActive"): "true" if layer.enabled else "false",
                                c("CorrectionName"): layer.name}
        for key, value in layer.adjustments.items():
            if key in LOCAL_BACK:
                name, scale = LOCAL_BACK[key]
                corr[c(name)] = _local_fmt(value / scale)
            elif value:
                lossy.append(f"layer {layer.name!r}: {key}={value:g} (no Lightroom local slider)")
        corr[c("CorrectionMasks")] = masks
        corrections.append(corr)
    if corrections:
        out[c("MaskGroupBasedCorrections")] = corrections
    if out:
        out[c("ProcessVersion")] = "11.0"
        out[c("HasSettings")] = "True"
    return out, lossy


def owned_crs_names(existing: dict[str, Any], source: str) -> set[str]:
    """crs: properties a write may replace in an existing sidecar: the mapped sliders and
    crop always; the local-correction lists only when maskroom could read every part
    of them (otherwise Lightroom's own corrections stay as it wrote them)."""
    owned = set(GLOBAL) | set(CROP) | set(WB) | {"ProcessVersion", "HasSettings"}
    _, unmapped, _ = recipe_from_crs({k: v for k, v in existing.items() if local_name(k) in CORRECTIONS},
                                     source)
    if not unmapped:
        owned |= set(CORRECTIONS)
    return owned
