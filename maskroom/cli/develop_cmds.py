"""Develop commands: edit, history, undo, redo, snapshot, copy, preset, render."""
from __future__ import annotations

import json
from pathlib import Path

import click

from maskroom.cli.base import ID, echo_json, fail, main, pass_ctx, warn
from maskroom.cli.library_cmds import filter_option, selected_ids


def _edits():
    from maskroom.catalog import edits

    return edits


def _version_id(session, image_id: int, version_id: int | None) -> int:
    edits = _edits()
    try:
        return edits.get_version(session, image_id, version_id).id
    except edits.EditError as exc:
        raise click.ClickException(f"image {image_id}: {exc}") from None


def parse_set(items: tuple[str, ...]) -> dict[str, float]:
    """--set KEY=VALUE pairs -> validated adjustments (values are absolute, '+0.7' = 0.7)."""
    from maskroom.engine.develop.pipeline import validate_adjustments
    from maskroom.core.recipe import RecipeError

    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--set {item!r}: expected KEY=VALUE, e.g. exposure=+0.7")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            fail(f"--set {item!r}: {value!r} is not a number")
    try:
        validate_adjustments(out)
    except RecipeError as exc:
        fail(f"--set: {exc}")
    return out


def _read_json(path: Path, what: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(f"{path}: cannot read {what}: {exc}")


def _label(adjustments: dict[str, float], layer: str | None) -> str:
    parts = [f"{k} {v:+g}" for k, v in adjustments.items()]
    text = ", ".join(parts) or "edit"
    return f"{layer}: {text}" if layer else text


@main.command("edit")
@click.argument("ids", nargs=-1, type=ID, required=True)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Set an adjustment, e.g. --set exposure=+0.7 --set clarity=20 (see docs/develop.md).")
@click.option("--layer", "layer_name", help="Edit this masked layer (created when --mask-json is given).")
@click.option("--mask-json", type=click.Path(path_type=Path), help="Mask definition (or list of components) for --layer.")
@click.option("--opacity", type=click.FloatRange(0, 1), help="Layer opacity 0..1.")
@click.option("--disable/--enable", "disable", default=None, help="Turn the layer off or on.")
@click.option("--recipe", "recipe_file", type=click.Path(path_type=Path), help="Replace the whole edit with this recipe JSON.")
@click.option("--straighten", type=click.FloatRange(-45, 45), help="Straighten angle in degrees.")
@click.option("--crop", help="Crop x0,y0,x1,y1 normalised to the straightened image ('none' removes it).")
@click.option("--version", "version_id", type=ID, help="Edit this version (virtual copy) instead of the master.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def edit_cmd(ctx, ids, sets, layer_name, mask_json, opacity, disable, recipe_file, straighten, crop, version_id, as_json):
    """Change the edit of each image ID (one history step each)."""
    from maskroom.engine.develop.geometry import validate_geometry
    from maskroom.core.recipe import Layer, Recipe, RecipeError

    edits = _edits()
    if version_id is not None and len(ids) > 1:
        fail("--version applies to one image only")
    adjustments = parse_set(sets)
    mask_def = None
    if mask_json is not None:
        if not layer_name:
            fail("--mask-json needs --layer NAME")
        try:
            mask_def = edits.mask_definition(_read_json(mask_json, "mask definition"))
        except edits.EditError as exc:
            fail(f"{mask_json}: {exc}")
    new_recipe = None
    if recipe_file is not None:
        try:
            new_recipe = Recipe.from_dict(_read_json(recipe_file, "recipe"))
            from maskroom.engine.develop.pipeline import validate_adjustments

            for layer in new_recipe.layers:
                validate_adjustments(layer.adjustments)
            validate_geometry(new_recipe.settings)
        except (RecipeError, ValueError, TypeError, AttributeError) as exc:
            fail(f"{recipe_file}: {exc}")
    crop_rect = None
    if crop:
        if crop.lower() != "none":
            try:
                x0, y0, x1, y1 = (float(v) for v in crop.split(","))
            except ValueError:
                fail(f"--crop {crop!r}: expected x0,y0,x1,y1")
            crop_rect = {"x0": x0, "y0": y0, "x1": x1, "y1": y1}
            try:
                validate_geometry({"crop": crop_rect})
            except ValueError as exc:
                fail(f"--crop: {exc}")
    if not (sets or mask_def or opacity is not None or disable is not None or new_recipe or straighten is not None or crop):
        fail("nothing to change: give --set, --mask-json, --opacity, --recipe, --straighten or --crop")
    results, failed = [], 0
    for image_id in ids:
        try:
            with ctx.catalog.session() as s:
                vid = edits.get_version(s, image_id, version_id).id
                if new_recipe is not None:
                    recipe, label = new_recipe.copy(), f"Recipe from {recipe_file.name}"
                else:
                    recipe = edits.load_recipe(s, vid)
                    layer = recipe.global_layer
                    if layer_name and layer_name != layer.name:
                        layer = recipe.layer(layer_name)
                        if layer is None:
                            if mask_def is None:
                                raise edits.EditError(f"no layer named {layer_name!r}: give --mask-json to create it")
                            layer = Layer(layer_name, mask=mask_def)
                            recipe.layers.append(layer)
                        elif mask_def is not None:
                            layer.mask = mask_def
                    elif mask_def is not None:
                        raise edits.EditError("the global layer cannot have a mask")
                    layer.adjustments.update(adjustments)
                    if opacity is not None:
                        layer.opacity = opacity
                    if disable is not None:
                        layer.enabled = not disable
                    if straighten is not None:
                        recipe.settings["straighten"] = straighten
                    if crop:
                        if crop_rect is None:
                            recipe.settings.pop("crop", None)
                        else:
                            recipe.settings["crop"] = crop_rect
                    label = _label(adjustments, layer_name) if adjustments else (
                        f"{layer_name or 'Global'}: mask/settings")
                step = edits.save_recipe(s, vid, recipe, label)
                results.append({"image_id": image_id, "version_id": vid, "step": step.seq, "label": label})
        except (edits.EditError, RecipeError, ValueError) as exc:
            failed += 1
            warn(f"image {image_id}: {exc}")
    if as_json:
        echo_json(results)
    else:
        for r in results:
            click.echo(f"image {r['image_id']} (version {r['version_id']}): step {r['step']} {r['label']}")
    if failed:
        raise SystemExit(1)


@main.command("history")
@click.argument("image_id", type=ID)
@click.option("--version", "version_id", type=ID)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def history_cmd(ctx, image_id, version_id, as_json):
    """List the edit history of IMAGE_ID ('>' marks the current step)."""
    edits = _edits()
    with ctx.catalog.session() as s:
        vid = _version_id(s, image_id, version_id)
        pos = edits.get_version(s, image_id, vid).history_position
        steps = [{"seq": h.seq, "label": h.label, "created_at": h.created_at, "current": h.seq == pos}
                 for h in edits.history(s, vid)]
    if as_json:
        echo_json(steps)
        return
    for st in steps:
        click.echo(f"{'>' if st['current'] else ' '} {st['seq']:3d}  {st['label']}")


def _step(ctx, image_id, version_id, forward: bool) -> None:
    edits = _edits()
    with ctx.catalog.session() as s:
        vid = _version_id(s, image_id, version_id)
        recipe = edits.redo(s, vid) if forward else edits.undo(s, vid)
        if recipe is None:
            fail(f"image {image_id}: nothing to {'redo' if forward else 'undo'}")
        version = edits.get_version(s, image_id, vid)
        step = next(h for h in edits.history(s, vid) if h.seq == version.history_position)
    click.echo(f"image {image_id}: now at step {step.seq} {step.label}")


@main.command("undo")
@click.argument("image_id", type=ID)
@click.option("--version", "version_id", type=ID)
@pass_ctx
def undo_cmd(ctx, image_id, version_id):
    """Step IMAGE_ID's edit back one history step."""
    _step(ctx, image_id, version_id, forward=False)


@main.command("redo")
@click.argument("image_id", type=ID)
@click.option("--version", "version_id", type=ID)
@pass_ctx
def redo_cmd(ctx, image_id, version_id):
    """Redo the step last undone on IMAGE_ID."""
    _step(ctx, image_id, version_id, forward=True)


@main.group("snapshot")
def snapshot() -> None:
    """Named snapshots of an edit."""


@snapshot.command("save")
@click.argument("image_id", type=ID)
@click.argument("name")
@click.option("--version", "version_id", type=ID)
@pass_ctx
def snapshot_save(ctx, image_id, name, version_id):
    with ctx.catalog.session() as s:
        _edits().save_snapshot(s, _version_id(s, image_id, version_id), name)
    click.echo(f"image {image_id}: snapshot {name!r} saved")


@snapshot.command("restore")
@click.argument("image_id", type=ID)
@click.argument("name")
@click.option("--version", "version_id", type=ID)
@pass_ctx
def snapshot_restore(ctx, image_id, name, version_id):
    edits = _edits()
    try:
        with ctx.catalog.session() as s:
            edits.restore_snapshot(s, _version_id(s, image_id, version_id), name)
    except edits.EditError as exc:
        fail(f"image {image_id}: {exc}")
    click.echo(f"image {image_id}: snapshot {name!r} restored")


@snapshot.command("list")
@click.argument("image_id", type=ID)
@click.option("--version", "version_id", type=ID)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def snapshot_list(ctx, image_id, version_id, as_json):
    with ctx.catalog.session() as s:
        snaps = [{"name": x.name, "created_at": x.created_at}
                 for x in _edits().list_snapshots(s, _version_id(s, image_id, version_id))]
    if as_json:
        echo_json(snaps)
    else:
        for x in snaps:
            click.echo(f"{x['name']}\t{x['created_at']:%Y-%m-%d %H:%M}")


@main.command("copy")
@click.argument("image_id", type=ID)
@click.option("--name", help="Name of the virtual copy (default 'Copy N').")
@click.option("--from", "from_version", type=ID, help="Start from this version (default: the master).")
@pass_ctx
def copy_cmd(ctx, image_id, name, from_version):
    """Make a virtual copy of IMAGE_ID: another, independent edit of the same file."""
    edits = _edits()
    try:
        with ctx.catalog.session() as s:
            v = edits.create_virtual_copy(s, image_id, name=name, from_version_id=from_version)
            vid, vname = v.id, v.name
    except edits.EditError as exc:
        fail(f"image {image_id}: {exc}")
    click.echo(f"image {image_id}: virtual copy {vname!r} is version {vid}")


@main.group("preset")
def preset() -> None:
    """Develop presets: named sets of layers (adjustments and mask intents)."""


@preset.command("save")
@click.argument("name")
@click.option("--from", "image_id", type=ID, required=True, help="Image whose edit to save.")
@click.option("--version", "version_id", type=ID)
@click.option("--layer", "layers", multiple=True, help="Keep only these layers (repeat; 'Global' for the global layer).")
@pass_ctx
def preset_save(ctx, name, image_id, version_id, layers):
    edits = _edits()
    try:
        with ctx.catalog.session() as s:
            vid = _version_id(s, image_id, version_id)
            recipe = edits.load_recipe(s, vid)
            edits.save_preset(s, name, recipe, list(layers) or None)
    except edits.EditError as exc:
        fail(f"preset {name!r}: {exc}")
    click.echo(f"preset {name!r} saved from image {image_id}")


@preset.command("apply")
@click.argument("name")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True, help="Every image in the catalog.")
@click.option("--mode", type=click.Choice(["merge", "replace"]), default="merge", show_default=True)
@pass_ctx
def preset_apply(ctx, name, ids, filters, every, mode):
    """Apply preset NAME to images: IDs, --filter KEY=VALUE or --all (one history step each)."""
    edits = _edits()
    with ctx.catalog.session() as s:
        chosen = selected_ids(s, ids, filters, every)
    failed = 0
    for image_id in chosen:
        try:
            with ctx.catalog.session() as s:
                vid = _version_id(s, image_id, None)
                edits.apply_preset(s, vid, name, mode)
            click.echo(f"image {image_id}: preset {name!r} applied ({mode})")
        except (edits.EditError, click.ClickException) as exc:
            failed += 1
            warn(f"image {image_id}: {getattr(exc, 'message', exc)}")
    if failed:
        raise SystemExit(1)


@preset.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def preset_list(ctx, as_json):
    with ctx.catalog.session() as s:
        rows = [{"name": p.name, "global": (p.body.get("global") or {}).get("adjustments", {}),
                 "layers": [x["name"] for x in p.body.get("layers") or []]} for p in _edits().list_presets(s)]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        g = ", ".join(f"{k} {v:+g}" for k, v in r["global"].items())
        click.echo(f"{r['name']}\tglobal: {g or '-'}\tlayers: {', '.join(r['layers']) or '-'}")


@preset.command("export")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def preset_export(ctx, name, file):
    edits = _edits()
    try:
        with ctx.catalog.session() as s:
            edits.export_preset(s, name, file)
    except (edits.EditError, OSError) as exc:
        fail(f"preset {name!r}: {exc}")
    click.echo(f"preset {name!r} written to {file}")


@preset.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", help="Store under this name instead of the file's.")
@pass_ctx
def preset_import(ctx, file, name):
    edits = _edits()
    try:
        with ctx.catalog.session() as s:
            p = edits.import_preset(s, file, name)
            pname = p.name
    except edits.EditError as exc:
        fail(str(exc))
    click.echo(f"preset {pname!r} imported from {file}")


@main.command("render")
@click.argument("image_id", type=ID)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file (.png, .jpg or .tif).")
@click.option("--size", type=click.IntRange(16, 65500), help="Long edge in pixels (default: full size).")
@click.option("--version", "version_id", type=ID)
@click.option("--colorspace", type=click.Choice(["srgb", "display-p3", "adobe-rgb"]), default="srgb", show_default=True)
@click.option("--bits", type=click.Choice(["8", "16"]), default="8", show_default=True)
@click.option("--mask", "mask_layer", help="Write this layer's mask (greyscale) instead of the image.")
@pass_ctx
def render_cmd(ctx, image_id, out, size, version_id, colorspace, bits, mask_layer):
    """Render IMAGE_ID's edit to a file (the original is never written)."""
    import numpy as np

    from maskroom.engine.develop.render import mask_alpha, render_version, to_output
    from maskroom.engine.develop.source import SourceError
    from maskroom.engine.export.writers import ExportFormatError, write_image

    fmt = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}.get(out.suffix.lower())
    if fmt is None:
        fail(f"{out}: unknown extension (use .png, .jpg or .tif)")
    with ctx.catalog.session() as s:
        vid = _version_id(s, image_id, version_id)
    try:
        if mask_layer:
            alpha = mask_alpha(ctx.catalog, vid, mask_layer, scale="full", long_edge=size)
            grey = (np.clip(alpha, 0, 1) * 255 + 0.5).astype(np.uint8)
            write_image(out, np.repeat(grey[..., None], 3, axis=2), fmt, bits=8, icc=None)
        else:
            result = render_version(ctx.catalog, vid, scale="full", long_edge=size)
            pixels, icc = to_output(result.linear, colorspace, int(bits))
            write_image(out, pixels, fmt, bits=int(bits), icc=icc, quality=92)
    except (SourceError, LookupError, ExportFormatError, ValueError) as exc:
        fail(f"image {image_id}: {exc}")
    click.echo(f"image {image_id}: rendered to {out}")
