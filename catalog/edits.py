"""Recipe persistence: edit versions, their layer rows, history, snapshots, presets.

Every function that reads a version to change it locks the photo's row and then the
version's (``lock_row``, always in that order) before reading, so concurrent writers
of one photo (the app, a script, a watch-folder auto-sync, a second workstation on
PostgreSQL) take turns and each builds on the last one's committed step.

The layers table always holds the version's *current* recipe (what renders); every
change also appends a history step holding the full recipe after the step, so undo
and redo only move ``EditVersion.history_position`` and copy that step's recipe back
into the layer rows.  Saving after an undo drops the redo steps beyond the position,
as every editor does.

Presets are a named subset of layers (adjustments and mask *intents*, never derived
rasters) stored in the presets table (kind ``develop``); their JSON body is the
file format of ``maskroom preset export/import`` (see docs/develop.md).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from maskroom.catalog.database import lock_name, lock_row
from maskroom.catalog.schema import EditVersion, HistoryStep, Image, Preset, Snapshot
from maskroom.catalog.schema import Layer as LayerRow
from maskroom.core.errors import InvalidValue
from maskroom.core.files import atomic_write_text
from maskroom.core.recipe import Layer, MaskDefinition, Recipe, RecipeError, new_uid
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

PRESET_KIND = "develop"
PRESET_FORMAT = "maskroom-develop-preset"
PRESET_SCHEMA_VERSION = 1
APPLY_MODES = ("merge", "replace")


class EditError(InvalidValue):
    """A version, snapshot or preset that does not exist, or a bad request."""


# -- versions ---------------------------------------------------------------

def _version(session: Session, version_id: int) -> EditVersion:
    """The version, locked (with its photo) for the rest of the transaction."""
    image_id = session.scalar(select(EditVersion.image_id).where(EditVersion.id == version_id))
    version = None
    if image_id is not None:
        lock_row(session, Image, image_id)
        version = lock_row(session, EditVersion, version_id)
    if version is None:
        raise EditError(f"edit version {version_id} does not exist")
    return version


def _write_layers(session: Session, version: EditVersion, recipe: Recipe) -> None:
    """Make the layer rows and settings of ``version`` match ``recipe``."""
    session.execute(delete(LayerRow).where(LayerRow.version_id == version.id))
    session.flush()
    session.expire(version, ["layers"])
    for pos, layer in enumerate(recipe.layers):
        d = layer.to_dict()
        session.add(LayerRow(
            version_id=version.id, position=pos, name=d["name"], enabled=d["enabled"],
            opacity=d["opacity"], adjustments=d["adjustments"], mask=d["mask"],
        ))
    version.settings = copy.deepcopy(recipe.settings)
    version.recipe_hash = recipe.digest()
    session.flush()
    session.expire(version, ["layers"])


def _append_step(session: Session, version: EditVersion, recipe: Recipe, label: str) -> HistoryStep:
    seq = version.history_position + 1 if _has_history(session, version.id) else 0
    # A new step after an undo forgets the undone steps (no branching history).
    session.execute(delete(HistoryStep).where(HistoryStep.version_id == version.id, HistoryStep.seq >= seq))
    step = HistoryStep(version_id=version.id, seq=seq, label=label, recipe=recipe.to_dict())
    session.add(step)
    version.history_position = seq
    session.flush()
    return step


def _has_history(session: Session, version_id: int) -> bool:
    return session.scalar(select(HistoryStep.id).where(HistoryStep.version_id == version_id).limit(1)) is not None


def _new_version(session: Session, image_id: int, recipe: Recipe, *, name: str, is_master: bool,
                 label: str) -> EditVersion:
    if lock_row(session, Image, image_id) is None:
        raise EditError(f"image {image_id} does not exist")
    version = EditVersion(image_id=image_id, name=name, is_master=is_master, history_position=0)
    session.add(version)
    session.flush()
    _write_layers(session, version, recipe)
    _append_step(session, version, recipe, label)
    return version


def get_version(session: Session, image_id: int, version_id: int | None = None) -> EditVersion:
    """The version ``version_id`` of the image, or its master (created on first use);
    locked, with the photo, for the rest of the transaction."""
    if version_id is not None:
        version = _version(session, version_id)
        if version.image_id != image_id:
            raise EditError(f"edit version {version_id} belongs to image {version.image_id}, not {image_id}")
        return version
    if lock_row(session, Image, image_id) is None:  # one master per photo, however many ask at once
        raise EditError(f"image {image_id} does not exist")
    version = session.scalar(
        select(EditVersion).where(EditVersion.image_id == image_id, EditVersion.is_master.is_(True))
        .order_by(EditVersion.id).limit(1).with_for_update().execution_options(populate_existing=True)
    )
    if version is None:
        version = _new_version(session, image_id, Recipe(), name="Master", is_master=True, label="Import")
    return version


def versions_of(session: Session, image_id: int) -> list[EditVersion]:
    return list(session.scalars(select(EditVersion).where(EditVersion.image_id == image_id).order_by(EditVersion.id)))


def load_recipe(session: Session, version_id: int) -> Recipe:
    """The version's current recipe, from its layer rows and settings."""
    version = _version(session, version_id)
    rows = session.scalars(select(LayerRow).where(LayerRow.version_id == version_id).order_by(LayerRow.position))
    layers = [
        Layer.from_dict({"name": r.name, "enabled": r.enabled, "opacity": r.opacity,
                         "adjustments": r.adjustments or {}, "mask": r.mask})
        for r in rows
    ]
    return Recipe.from_dict({"layers": [x.to_dict() for x in layers], "settings": version.settings or {}})


def save_recipe(session: Session, version_id: int, recipe: Recipe, label: str) -> HistoryStep:
    """Make ``recipe`` the version's current edit and record it as a history step."""
    version = _version(session, version_id)
    recipe = Recipe.from_dict(recipe.to_dict())  # validates, and detaches from the caller
    _write_layers(session, version, recipe)
    return _append_step(session, version, recipe, label)


def history(session: Session, version_id: int) -> list[HistoryStep]:
    _version(session, version_id)
    return list(session.scalars(
        select(HistoryStep).where(HistoryStep.version_id == version_id).order_by(HistoryStep.seq)))


def _move(session: Session, version_id: int, delta: int) -> Recipe | None:
    version = _version(session, version_id)
    target = session.scalar(select(HistoryStep).where(
        HistoryStep.version_id == version_id, HistoryStep.seq == version.history_position + delta))
    if target is None:
        return None
    recipe = Recipe.from_dict(target.recipe)
    _write_layers(session, version, recipe)
    version.history_position = target.seq
    session.flush()
    return recipe


def undo(session: Session, version_id: int) -> Recipe | None:
    """Step back one history step; None when already at the first step."""
    return _move(session, version_id, -1)


def redo(session: Session, version_id: int) -> Recipe | None:
    """Step forward again after an undo; None when there is nothing to redo."""
    return _move(session, version_id, +1)


def create_virtual_copy(session: Session, image_id: int, name: str | None = None,
                        from_version_id: int | None = None) -> EditVersion:
    """A new, independent version of the image starting from another version's recipe."""
    source = get_version(session, image_id, from_version_id)
    recipe = load_recipe(session, source.id)
    if name is None:
        n = len(versions_of(session, image_id))
        name = f"Copy {n}"
    return _new_version(session, image_id, recipe, name=name, is_master=False,
                        label=f"Virtual copy of {source.name}")


def update_component(session: Session, version_id: int, uid: str, params: dict[str, Any], *,
                     label: str | None = None, replace: bool = False) -> Recipe:
    """Change one mask component's params (a gradient moved, an object box resized) as
    one history step; returns the new recipe.

    ``params`` merge into the component's (``replace``: become them).  Its derived
    state is dropped: an AI kind derives again from the new prompt (the raster cache
    is keyed by the params, so the old raster is not reused).
    """
    recipe = load_recipe(session, version_id)
    for layer in recipe.layers:
        comp = next((c for c in (layer.mask.components if layer.mask else []) if c.uid == uid), None)
        if comp is not None:
            break
    else:
        raise EditError(f"edit version {version_id} has no mask component {uid!r}")
    if not isinstance(params, dict):
        raise EditError("mask component params must be a JSON object")
    comp.params = dict(params) if replace else {**comp.params, **params}
    comp.derived = {}
    save_recipe(session, version_id, recipe, label or f"{layer.name}: Edit {comp.kind} mask")
    return recipe


# -- snapshots --------------------------------------------------------------

def save_snapshot(session: Session, version_id: int, name: str) -> Snapshot:
    """Remember the current recipe under ``name`` (replacing a snapshot of that name)."""
    recipe = load_recipe(session, version_id)
    snap = session.scalar(select(Snapshot).where(Snapshot.version_id == version_id, Snapshot.name == name))
    if snap is None:
        snap = Snapshot(version_id=version_id, name=name, recipe=recipe.to_dict())
        session.add(snap)
    else:
        snap.recipe = recipe.to_dict()
    session.flush()
    return snap


def list_snapshots(session: Session, version_id: int) -> list[Snapshot]:
    return list(session.scalars(select(Snapshot).where(Snapshot.version_id == version_id).order_by(Snapshot.id)))


def restore_snapshot(session: Session, version_id: int, name: str) -> Recipe:
    """Make a snapshot the current edit; this is itself a history step (undoable)."""
    snap = session.scalar(select(Snapshot).where(Snapshot.version_id == version_id, Snapshot.name == name))
    if snap is None:
        raise EditError(f"version {version_id} has no snapshot named {name!r}")
    recipe = Recipe.from_dict(snap.recipe)
    save_recipe(session, version_id, recipe, f"Snapshot {name}")
    return recipe


# -- presets ----------------------------------------------------------------

def _intent_layer(layer: Layer) -> dict[str, Any]:
    """A layer as a preset keeps it: adjustments and mask intent, no derived state."""
    d = layer.to_dict()
    for comp in (d["mask"] or {}).get("components", []):
        comp["derived"] = {}
    return d


def preset_body(name: str, recipe: Recipe, layers: list[str] | None = None) -> dict[str, Any]:
    """The preset JSON (also the export file format) for a subset of a recipe's layers.

    ``layers`` names the layers to keep (default: all); the global layer's
    adjustments are kept when the global layer is named or no names are given.
    """
    chosen = recipe.layers if layers is None else [x for x in recipe.layers if x.name in set(layers)]
    if layers is not None:
        missing = set(layers) - {x.name for x in chosen}
        if missing:
            raise EditError(f"no layer named {', '.join(sorted(missing))} in the recipe")
    body: dict[str, Any] = {
        "format": PRESET_FORMAT,
        "schema_version": PRESET_SCHEMA_VERSION,
        "name": name,
        "global": None,
        "layers": [],
    }
    for layer in chosen:
        if layer is recipe.global_layer:
            body["global"] = {"adjustments": dict(layer.adjustments)}
        else:
            body["layers"].append(_intent_layer(layer))
    return body


def validate_preset_body(body: Any, source: str = "preset") -> dict[str, Any]:
    """Check a preset body (from the catalog or a file); returns it normalised."""
    if not isinstance(body, dict) or body.get("format") != PRESET_FORMAT:
        raise EditError(f"{source}: not a maskroom develop preset (format must be {PRESET_FORMAT!r})")
    unknown = sorted(set(map(str, body)) - {"format", "schema_version", "name", "global", "layers"})
    if unknown:
        raise EditError(f"{source}: unknown preset key(s) {', '.join(unknown)}")
    version = body.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise EditError(f"{source}: preset schema_version must be a whole number, not {version!r}")
    if version > PRESET_SCHEMA_VERSION:
        raise EditError(f"{source}: preset schema {body['schema_version']} is newer than this maskroom")
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise EditError(f"{source}: the preset has no name")
    try:
        glob = body.get("global")
        if glob is not None:
            if not isinstance(glob, dict) or set(glob) - {"adjustments"}:
                raise RecipeError('"global" must be {"adjustments": {...}}')
            Layer.from_dict({"name": "Global", "adjustments": glob.get("adjustments") or {}})
        if not isinstance(body.get("layers") or [], list):
            raise RecipeError('"layers" must be a list')
        layers = [Layer.from_dict(x) for x in body.get("layers") or []]
    except (RecipeError, TypeError, ValueError, AttributeError) as exc:
        raise EditError(f"{source}: {exc}") from None
    if any(x.mask is None for x in layers):
        raise EditError(f"{source}: a preset's masked layers each need a mask")
    return {
        "format": PRESET_FORMAT, "schema_version": PRESET_SCHEMA_VERSION, "name": str(body["name"]),
        "global": None if glob is None else {"adjustments": dict(Layer.from_dict(
            {"name": "Global", "adjustments": glob.get("adjustments") or {}}).adjustments)},
        "layers": [_intent_layer(x) for x in layers],
    }


def save_preset(session: Session, name: str, recipe: Recipe, layers: list[str] | None = None) -> Preset:
    """Store (or overwrite) the develop preset ``name`` from a recipe's layers."""
    body = preset_body(name, recipe, layers)
    return _store_preset(session, body)


def _store_preset(session: Session, body: dict[str, Any]) -> Preset:
    lock_name(session, "presets")  # two saves of one name: the second overwrites, no duplicate
    preset = session.scalar(select(Preset).where(Preset.kind == PRESET_KIND, Preset.name == body["name"]))
    if preset is None:
        preset = Preset(kind=PRESET_KIND, name=body["name"], body=body, schema_version=PRESET_SCHEMA_VERSION)
        session.add(preset)
    else:
        preset.body = body
    session.flush()
    return preset


def get_preset(session: Session, name: str) -> Preset:
    preset = session.scalar(select(Preset).where(Preset.kind == PRESET_KIND, Preset.name == name))
    if preset is None:
        raise EditError(f"no develop preset named {name!r}")
    return preset


def list_presets(session: Session) -> list[Preset]:
    return list(session.scalars(select(Preset).where(Preset.kind == PRESET_KIND).order_by(Preset.name)))


def apply_preset_body(recipe: Recipe, body: dict[str, Any], mode: str = "merge") -> Recipe:
    """A new recipe: ``recipe`` with the preset applied.

    merge: the preset's global adjustments overwrite those keys only; each preset
    layer replaces the layer of the same name or is appended.  replace: the global
    adjustments become the preset's, and the masked layers are exactly the preset's.
    Crop and other settings are never touched (they belong to one photo).
    """
    if mode not in APPLY_MODES:
        raise EditError(f"preset mode must be one of {APPLY_MODES}, not {mode!r}")
    out = recipe.copy()
    glob = body.get("global")
    layers = [Layer.from_dict(x) for x in body.get("layers") or []]
    for layer in layers:  # fresh uids: the components now belong to another edit
        for comp in layer.mask.components:
            comp.uid = new_uid()
            comp.derived = {}
    if mode == "replace":
        out.layers[0].adjustments = dict((glob or {}).get("adjustments") or {})
        out.layers = out.layers[:1] + layers
        return out
    if glob:
        out.layers[0].adjustments.update(glob.get("adjustments") or {})
    for layer in layers:
        idx = next((i for i, x in enumerate(out.layers) if i > 0 and x.name == layer.name), None)
        if idx is None:
            out.layers.append(layer)
        else:
            out.layers[idx] = layer
    return out


def apply_preset(session: Session, version_id: int, preset_name: str, mode: str = "merge") -> Recipe:
    """Apply a stored preset to a version (one history step); returns the new recipe."""
    body = validate_preset_body(get_preset(session, preset_name).body, f"preset {preset_name!r}")
    recipe = apply_preset_body(load_recipe(session, version_id), body, mode)
    save_recipe(session, version_id, recipe, f"Preset {preset_name}")
    return recipe


def export_preset(session: Session, name: str, path: Path) -> Path:
    body = validate_preset_body(get_preset(session, name).body, f"preset {name!r}")
    path = Path(path)
    atomic_write_text(path, json.dumps(body, indent=2, sort_keys=True) + "\n")
    return path


def import_preset(session: Session, path: Path, name: str | None = None) -> Preset:
    path = Path(path)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EditError(f"{path}: cannot read preset: {exc}") from None
    body = validate_preset_body(body, str(path))
    if name:
        body["name"] = name
    return _store_preset(session, body)


def mask_definition(d: dict[str, Any]) -> MaskDefinition:
    """A mask definition from JSON (a full definition, or a list of components)."""
    if isinstance(d, list):
        d = {"components": d}
    try:
        definition = MaskDefinition.from_dict(d)
    except (RecipeError, TypeError) as exc:
        raise EditError(str(exc)) from None
    return definition
