"""Edit use cases: change an edit (adjustments, layers, crop, straighten, a whole
recipe), history and undo, snapshots, virtual copies, develop presets, and the mask
components of a layer (``maskroom edit|history|undo|redo|snapshot|copy|preset|mask``
and the app's develop, masks and history panels).

Every change is one history step, taken under the catalog's write lock by
catalog.edits; values are validated here, at the door, before anything is stored.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maskroom.catalog import Catalog, edits
from maskroom.catalog.edits import EditError
from maskroom.catalog.schema import EditVersion
from maskroom.core.errors import InvalidValue, about
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.develop.geometry import validate_geometry
from maskroom.engine.develop.pipeline import validate_adjustments
from maskroom.services import develop, xmp

UNSET: Any = object()  # "leave as it is", where None means "remove"


# -- versions ------------------------------------------------------------------------------
def version_id(catalog: Catalog, image_id: int, version: int | None = None) -> int:
    """The master version of IMAGE_ID, or its version (virtual copy) VERSION."""
    with catalog.session() as s:
        try:
            return edits.get_version(s, image_id, version).id
        except EditError as exc:
            raise EditError(about(f"image {image_id}", exc)) from None


def master_version_id(catalog: Catalog, image_id: int) -> int:
    return version_id(catalog, image_id)


def versions_of(catalog: Catalog, image_id: int) -> list[tuple[int, str]]:
    with catalog.session() as s:
        return [(v.id, v.name) for v in edits.versions_of(s, image_id)]


def image_of_version(catalog: Catalog, version: int) -> int:
    with catalog.session() as s:
        v = s.get(EditVersion, version)
        if v is None:
            raise LookupError(f"edit version {version} does not exist")
        return v.image_id


def _changed(catalog: Catalog, version: int) -> None:
    """An edit changed: its photo's sidecar is rewritten when the catalog writes them automatically."""
    xmp.after_change(catalog, [image_of_version(catalog, version)])


def load_recipe(catalog: Catalog, version: int) -> Recipe:
    with catalog.session() as s:
        return edits.load_recipe(s, version)


def validate_recipe(recipe: Recipe) -> Recipe:
    """A whole recipe checked as every front end must: adjustments known and in range,
    geometry sane (the recipe model itself checked kinds, modes and layer shapes)."""
    for layer in recipe.layers:
        validate_adjustments(layer.adjustments, masked=layer.mask is not None)
    validate_geometry(recipe.settings)
    return recipe


def save_recipe(catalog: Catalog, version: int, recipe: Recipe, label: str) -> int:
    """Store RECIPE as the version's new state (one history step); returns the step number."""
    validate_recipe(recipe)
    with catalog.session() as s:
        seq = edits.save_recipe(s, version, recipe, label).seq
    _changed(catalog, version)
    return seq


# -- changing an edit ------------------------------------------------------------------------
def parse_crop(text: str) -> dict | None:
    """'x0,y0,x1,y1' (normalised) -> a crop rectangle; 'none' -> None (remove the crop)."""
    if text.strip().lower() == "none":
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidValue(f"--crop {text!r}: expected x0,y0,x1,y1") from None
    rect = {"x0": x0, "y0": y0, "x1": x1, "y1": y1}
    validate_geometry({"crop": rect})
    return rect


def read_json_file(path: Path, what: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidValue(f"{path}: cannot read {what}: {exc}") from None


def recipe_from_file(path: Path) -> Recipe:
    try:
        return validate_recipe(Recipe.from_dict(read_json_file(path, "recipe")))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidValue(f"{path}: {exc}") from None


def mask_from_file(path: Path) -> MaskDefinition:
    try:
        return edits.mask_definition(read_json_file(path, "mask definition"))
    except EditError as exc:
        raise InvalidValue(f"{path}: {exc}") from None


@dataclass
class EditChange:
    """What ``maskroom edit`` (and a develop-panel release) changes; UNSET leaves a thing as it is."""

    adjustments: dict[str, float] | None = None
    layer: str | None = None  # a masked layer by name; None: the global layer
    mask: MaskDefinition | None = None  # creates or replaces the layer's mask
    opacity: float | None = None
    enabled: bool | None = None
    straighten: float | None = None
    crop: Any = UNSET  # dict, or None to remove
    recipe: Recipe | None = None  # replaces the whole edit
    recipe_label: str = "Recipe"
    white_balance: dict | None = None  # RAW settings from develop.white_balance_settings
    wb_pick: tuple[float, float] | None = None  # a point of the photo made neutral (RAW: multipliers, else temperature/tint)
    lens: str | None = None  # lens corrections: auto | off | a lensfun lens model

    def validate(self) -> EditChange:
        geometry = {}
        if self.straighten is not None:
            geometry["straighten"] = self.straighten
        if self.crop is not UNSET and self.crop is not None:
            geometry["crop"] = self.crop
        if geometry:
            validate_geometry(geometry)
        if self.opacity is not None and not 0.0 <= float(self.opacity) <= 1.0:
            raise InvalidValue(f"opacity must be within 0..1, not {self.opacity}")
        if self.mask is not None and not self.layer:
            raise InvalidValue("a mask needs a layer name")
        if self.adjustments:
            validate_adjustments(self.adjustments, masked=bool(self.layer) and self.layer != "Global")
        if self.recipe is not None:
            validate_recipe(self.recipe)
        if not (self.adjustments or self.mask or self.opacity is not None or self.enabled is not None
                or self.recipe or self.straighten is not None or self.crop is not UNSET
                or self.white_balance or self.wb_pick or self.lens):
            raise InvalidValue("nothing to change: give adjustments, a mask, opacity, a recipe, straighten, crop, "
                               "white balance or lens corrections")
        return self

    def label(self, lens_label: str | None = None) -> str:
        if self.adjustments:
            text = ", ".join(f"{k} {v:+g}" if isinstance(v, (int, float)) else f"{k} ({len(v)} points)"
                             for k, v in self.adjustments.items())
            return f"{self.layer}: {text}" if self.layer else text
        if self.white_balance or self.wb_pick:
            return f"White balance: {(self.white_balance or {}).get('white_balance', 'picked')}"
        if self.crop is not UNSET or self.straighten is not None:
            parts = []
            if self.crop is not UNSET:
                parts.append("Crop removed" if self.crop is None else
                             "Crop " + ",".join(f"{self.crop[k]:.3f}" for k in ("x0", "y0", "x1", "y1")))
            if self.straighten is not None:
                parts.append(f"straighten {self.straighten:+.2f}°")
            return ", ".join(parts)
        return lens_label or f"{self.layer or 'Global'}: mask/settings"

    def apply(self, recipe: Recipe, *, white_balance: dict | None = None, lens: dict | None = None,
              neutral: dict | None = None) -> None:
        """Change RECIPE; ``white_balance`` and ``lens`` are this photo's settings
        (a picked neutral point and a matched lens profile depend on the photo);
        ``neutral``: the temperature/tint a pick gave a photo that is not RAW."""
        layer = recipe.global_layer
        if self.layer and self.layer != layer.name:
            layer = recipe.layer(self.layer)
            if layer is None:
                if self.mask is None:
                    raise EditError(f"no layer named {self.layer!r}: give it a mask (--mask-json) to create it")
                layer = Layer(self.layer, mask=self.mask)
                recipe.layers.append(layer)
            elif self.mask is not None:
                layer.mask = self.mask
        elif self.mask is not None:
            raise EditError("the global layer cannot have a mask")
        layer.adjustments.update(self.adjustments or {})
        if self.opacity is not None:
            layer.opacity = float(self.opacity)
        if self.enabled is not None:
            layer.enabled = bool(self.enabled)
        if self.straighten is not None:
            recipe.settings["straighten"] = float(self.straighten)
        if self.crop is not UNSET:
            if self.crop is None:
                recipe.settings.pop("crop", None)
            else:
                recipe.settings["crop"] = self.crop
        if lens is not None:
            recipe.settings["lens"] = lens
        if neutral is not None:
            recipe.global_layer.adjustments.update(neutral)
        if white_balance is not None:
            raw = {k: v for k, v in (recipe.settings.get("raw") or {}).items()
                   if k not in ("white_balance", "temperature", "tint", "wb_multipliers")}
            recipe.settings["raw"] = {**raw, **white_balance}


def apply_edit(catalog: Catalog, image_id: int, change: EditChange, version: int | None = None) -> dict:
    """One history step on IMAGE_ID's edit (read and written under the catalog's write lock,
    so a second writer cannot lose it); returns {image_id, version_id, step, label}."""
    change.validate()
    # What depends on the photo is worked out before the write lock is taken.
    lens, lens_label = develop.lens_settings(catalog, image_id, change.lens) if change.lens else (None, None)
    wb, neutral = change.white_balance, None
    if change.wb_pick:  # the point is on the photo as rendered: its crop and straighten place it
        settings = load_recipe(catalog, version_id(catalog, image_id, version)).settings
        if develop.is_raw_image(catalog, image_id):
            wb = develop.pick_white_balance(catalog, image_id, *change.wb_pick, settings)
        else:  # JPEG, TIFF...: the temperature/tint that neutralise the point
            neutral = develop.neutral_temperature_tint(catalog, image_id, *change.wb_pick, settings)
    with catalog.session() as s:
        try:
            vid = edits.get_version(s, image_id, version).id
        except EditError as exc:
            raise EditError(about(f"image {image_id}", exc)) from None
        if change.recipe is not None:
            recipe, label = change.recipe.copy(), change.recipe_label
        else:
            recipe = edits.load_recipe(s, vid)
            change.apply(recipe, white_balance=wb, lens=lens, neutral=neutral)
            label = change.label(lens_label)
        step = edits.save_recipe(s, vid, recipe, label).seq
    xmp.after_change(catalog, [image_id])
    return {"image_id": image_id, "version_id": vid, "step": step, "label": label}


# -- history -------------------------------------------------------------------------------
def history(catalog: Catalog, version: int) -> tuple[list[tuple[int, str]], int]:
    """(seq, label) steps and the current position."""
    with catalog.session() as s:
        steps = [(h.seq, h.label) for h in edits.history(s, version)]
        pos = s.get(EditVersion, version).history_position
    return steps, pos


def history_rows(catalog: Catalog, version: int) -> list[dict]:
    with catalog.session() as s:
        pos = s.get(EditVersion, version).history_position
        return [{"seq": h.seq, "label": h.label, "created_at": h.created_at, "current": h.seq == pos}
                for h in edits.history(s, version)]


def step(catalog: Catalog, version: int, forward: bool) -> tuple[int, str] | None:
    """Undo (or redo) one step; returns the (seq, label) now current, None when there is nothing to do."""
    with catalog.session() as s:
        recipe = edits.redo(s, version) if forward else edits.undo(s, version)
        if recipe is None:
            return None
        pos = s.get(EditVersion, version).history_position
        h = next(h for h in edits.history(s, version) if h.seq == pos)
        now = h.seq, h.label
    _changed(catalog, version)
    return now


def undo(catalog: Catalog, version: int) -> bool:
    return step(catalog, version, forward=False) is not None


def redo(catalog: Catalog, version: int) -> bool:
    return step(catalog, version, forward=True) is not None


# -- snapshots and virtual copies ------------------------------------------------------------
def save_snapshot(catalog: Catalog, version: int, name: str) -> None:
    with catalog.session() as s:
        edits.save_snapshot(s, version, name)


def restore_snapshot(catalog: Catalog, version: int, name: str) -> None:
    with catalog.session() as s:
        edits.restore_snapshot(s, version, name)
    _changed(catalog, version)


def list_snapshots(catalog: Catalog, version: int) -> list[dict]:
    with catalog.session() as s:
        return [{"name": x.name, "created_at": x.created_at} for x in edits.list_snapshots(s, version)]


def create_virtual_copy(catalog: Catalog, image_id: int | None = None, *, from_version: int | None = None,
                        name: str | None = None) -> tuple[int, str]:
    """A new virtual copy of the image (from a version, default the master); returns (version id, name)."""
    with catalog.session() as s:
        if image_id is None:
            image_id = s.get(EditVersion, from_version).image_id
        v = edits.create_virtual_copy(s, image_id, name=name, from_version_id=from_version)
        return v.id, v.name


# -- develop presets ------------------------------------------------------------------------
def develop_presets(catalog: Catalog) -> list[str]:
    with catalog.session() as s:
        return [p.name for p in edits.list_presets(s)]


def preset_rows(catalog: Catalog) -> list[dict]:
    with catalog.session() as s:
        return [{"name": p.name, "global": (p.body.get("global") or {}).get("adjustments", {}),
                 "layers": [x["name"] for x in p.body.get("layers") or []]} for p in edits.list_presets(s)]


def save_develop_preset(catalog: Catalog, name: str, version: int, layers: Sequence[str] | None = None,
                        recipe: Recipe | None = None) -> None:
    """Save the version's edit (or an unsaved RECIPE) as preset NAME, only LAYERS when given."""
    with catalog.session() as s:
        recipe = recipe if recipe is not None else edits.load_recipe(s, version)
        edits.save_preset(s, name, recipe, list(layers) if layers else None)


def apply_develop_preset(catalog: Catalog, version: int, name: str, mode: str = "merge") -> None:
    with catalog.session() as s:
        edits.apply_preset(s, version, name, mode)
    _changed(catalog, version)


def export_develop_preset(catalog: Catalog, name: str, path: Path) -> None:
    with catalog.session() as s:
        edits.export_preset(s, name, path)


def import_develop_preset(catalog: Catalog, path: Path, name: str | None = None) -> str:
    with catalog.session() as s:
        return edits.import_preset(s, path, name).name


# -- mask components ---------------------------------------------------------------------------
def add_mask_component(catalog: Catalog, version: int, comp: MaskComponent, layer_name: str | None = None) -> str:
    """Append COMP to a masked layer (created when missing; default name: the kind's);
    returns the layer's name.  One history step."""
    comp.validate()
    name = layer_name or comp.kind.replace("-", " ").title()
    with catalog.session() as s:
        recipe = edits.load_recipe(s, version)
        layer = recipe.layer(name)
        if layer is None:
            layer = Layer(name, mask=MaskDefinition([]))
            recipe.layers.append(layer)
        elif layer.mask is None:
            if layer is recipe.global_layer:
                raise InvalidValue(f"layer {name!r} is the global layer and cannot have a mask")
            layer.mask = MaskDefinition([])
        layer.mask.components.append(comp)
        edits.save_recipe(s, version, recipe, f"Add {comp.kind} mask to {name}")
    _changed(catalog, version)
    return name


def update_mask_component(catalog: Catalog, version: int, uid: str, params: dict, label: str | None = None,
                          replace: bool = False) -> MaskComponent:
    """A component's params changed (a handle dragged, ``maskroom mask set``): one history step."""
    with catalog.session() as s:
        recipe = edits.update_component(s, version, uid, params, replace=replace,
                                        label=label or f"Edit mask component {uid}")
    _changed(catalog, version)
    return next(c for lay in recipe.layers for c in (lay.mask.components if lay.mask else []) if c.uid == uid)


def remove_mask(catalog: Catalog, version: int, target: str) -> str:
    """Remove a component (by uid) or a whole masked layer (by name); returns the history label."""
    with catalog.session() as s:
        recipe = edits.load_recipe(s, version)
        layer = recipe.layer(target)
        if layer is not None and layer is not recipe.global_layer:
            recipe.layers.remove(layer)
            label = f"Remove layer {target}"
        else:
            for lay in recipe.layers:
                if lay.mask is not None and any(c.uid == target for c in lay.mask.components):
                    lay.mask.components = [c for c in lay.mask.components if c.uid != target]
                    label = f"Remove mask component {target}"
                    break
            else:
                raise InvalidValue(f"no mask component or masked layer {target!r}")
        edits.save_recipe(s, version, recipe, label)
    _changed(catalog, version)
    return label
