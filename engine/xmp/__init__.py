"""XMP: reading embedded packets and sidecars, mapping Lightroom develop settings,
writing sidecars.  See docs/xmp.md.

``read_image_xmp`` is what import, ``maskroom xmp read`` and the watch folder call:
it finds the packets of one photo, picks the one that wins, and returns plain,
checked values (picklable: import runs it in worker processes).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maskroom.core.recipe import Recipe, RecipeError
from maskroom.engine.develop.pipeline import validate_adjustments
from maskroom.engine.imageio.formats import is_raw
from maskroom.engine.xmp.crs import CRS, recipe_from_crs
from maskroom.engine.xmp.fields import XmpFields, read_fields
from maskroom.engine.xmp.read import (
    Packet,
    XmpError,
    file_state,
    properties,
    read_embedded,
    read_sidecar,
    sidecar_candidates,
)
from maskroom.engine.xmp.write import RECIPE_FORMAT, RECIPE_PROP


@dataclass
class XmpRead:
    fields: XmpFields = field(default_factory=XmpFields)
    recipe: dict | None = None  # Recipe.to_dict(), checked
    recipe_from: str | None = None  # maskroom | crs
    source: str | None = None  # which packet won: a sidecar path or "embedded"
    sidecar: str | None = None  # the sidecar path (also when the embedded packet won)
    sidecar_state: dict | None = None  # size, mtime, digest of that sidecar as read
    unmapped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.source is not None


def maskroom_recipe(props: dict[str, Any], source: str) -> Recipe | None:
    """maskroom's own edit from a sidecar another maskroom catalog wrote: exact, checked."""
    raw = props.get(RECIPE_PROP)
    if not isinstance(raw, str):
        return None
    try:
        d = json.loads(raw)
        if not isinstance(d, dict) or d.get("format") != RECIPE_FORMAT:
            raise RecipeError("not a maskroom recipe")
        recipe = Recipe.from_dict({k: v for k, v in d.items() if k != "format"})  # "format": our envelope
        for layer in recipe.layers:
            validate_adjustments(layer.adjustments)
        return recipe
    except (ValueError, TypeError, AttributeError) as exc:  # JSONDecodeError and RecipeError are ValueErrors
        raise XmpError(f"{source}: maskroom:Recipe ignored ({exc})") from None


def _newer(a: Packet, a_fields: XmpFields, b_fields: XmpFields) -> bool:
    return bool(a_fields.metadata_date and b_fields.metadata_date and a_fields.metadata_date > b_fields.metadata_date)


def read_image_xmp(path: Path, width: int = 1, height: int = 1) -> XmpRead:
    """The XMP of one photo.  When a sidecar and an embedded packet both exist, the one
    with the newer ``xmp:MetadataDate`` wins, else the sidecar (what an editor wrote
    after the camera).  Problems become warnings; nothing here raises for bad XMP."""
    out = XmpRead()
    candidates: list[tuple[str, Packet]] = []
    sidecars = sidecar_candidates(path)
    if sidecars:
        sc = sidecars[0]  # IMG_1.CR3.xmp before IMG_1.xmp: the full name belongs to this file alone
        out.sidecar = str(sc)
        try:
            out.sidecar_state = file_state(sc)
            candidates.append((str(sc), read_sidecar(sc)))
        except XmpError as exc:
            out.warnings.append(str(exc))
        except OSError as exc:
            out.warnings.append(f"{sc}: cannot read sidecar ({exc.strerror or exc})")
    try:
        embedded = read_embedded(path)
        if embedded is not None:
            candidates.append(("embedded", embedded))
    except XmpError as exc:
        out.warnings.append(str(exc))
    if not candidates:
        return out
    parsed = [(name, pk, properties(pk)) for name, pk in candidates]
    fields = [read_fields(props, pk.source) for _, pk, props in parsed]
    pick = 0
    if len(parsed) == 2 and _newer(parsed[1][1], fields[1], fields[0]):
        pick = 1
    name, packet, props = parsed[pick]
    out.source, out.fields = name, fields[pick]
    out.warnings += out.fields.warnings
    out.unmapped += out.fields.unmapped
    try:
        recipe = maskroom_recipe(props, packet.source)
        if recipe is not None:
            out.recipe, out.recipe_from = recipe.to_dict(), "maskroom"
    except XmpError as exc:
        out.warnings.append(str(exc))
        recipe = None
    if recipe is None and name == "embedded" and not is_raw(Path(path)):
        # crs: settings inside a rendered file (a JPEG or WebP exported from Lightroom)
        # describe how that file was made from its raw: applying them again would
        # process the photo twice.  Sidecars and raw/DNG files carry edits to apply.
        if any(CRS in str(k) for k in props):
            out.unmapped.append("crs: develop settings embedded in a rendered file: not applied "
                                "(they describe how the file was made)")
    elif recipe is None:
        crs_recipe, unmapped, warnings = recipe_from_crs(props, packet.source, width, height)
        out.unmapped += unmapped
        out.warnings += warnings
        if crs_recipe is not None and (crs_recipe.global_layer.adjustments or len(crs_recipe.layers) > 1
                                       or crs_recipe.settings):
            out.recipe, out.recipe_from = crs_recipe.to_dict(), "crs"
    return out


__all__ = ["XmpRead", "XmpError", "read_image_xmp", "maskroom_recipe"]
