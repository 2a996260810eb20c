"""Develop commands: edit, history, undo, redo, snapshot, copy, preset, render."""
from __future__ import annotations

from pathlib import Path

import click

from maskroom.cli.base import ID, echo_json, fail, main, pass_ctx, warn
from maskroom.cli.library_cmds import filter_option
from maskroom.core.errors import InvalidValue, MaskroomError, about
from maskroom.core.values import parse_adjustment
from maskroom.services import develop, editing, library
from maskroom.services.editing import UNSET, EditChange


def parse_set(items: tuple[str, ...]) -> dict:
    """--set KEY=VALUE pairs -> adjustments (values are absolute, '+0.7' = 0.7; curve keys
    take a JSON list of points: curve.points=[[0.25,0.2],[0.75,0.8]]), checked at the door."""
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--set {item!r}: expected KEY=VALUE, e.g. exposure=+0.7")
        try:
            out[key.strip()] = parse_adjustment(key.strip(), value)
        except InvalidValue as exc:
            fail(str(exc))
    return out


def _point(text: str, what: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        fail(f"{what} {text!r}: expected X,Y within 0..1")
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        fail(f"{what} {text!r}: expected X,Y within 0..1")
    return x, y


@main.command("edit")
@click.argument("ids", nargs=-1, type=ID, required=True)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Set an adjustment, e.g. --set exposure=+0.7 --set clarity=20 (see docs/develop.md).")
@click.option("--layer", "layer_name", help="Edit this masked layer (created when --mask-json is given).")
@click.option("--mask-json", type=click.Path(path_type=Path), help="Mask definition (or list of components) for --layer.")
@click.option("--opacity", type=click.FloatRange(0, 1), help="Layer opacity 0..1.")
@click.option("--disable/--enable", "disable", default=None, help="Turn the layer off or on.")
@click.option("--recipe", "recipe_file", type=click.Path(path_type=Path), help="Replace the whole edit with this recipe JSON.")
@click.option("--straighten", type=float, help="Straighten angle in degrees (-45..45).")
@click.option("--crop", help="Crop x0,y0,x1,y1 normalised to the straightened image ('none' removes it).")
@click.option("--wb", "wb", help="RAW white balance: camera, auto, daylight, cloudy, shade, tungsten, fluorescent, "
              "flash, or KELVIN[,TINT] (e.g. 5200,+10).")
@click.option("--wb-pick", "wb_pick", metavar="X,Y", help="White balance that makes the point X,Y (0..1) of the rendered photo neutral (RAW: camera "
              "multipliers; JPEG, TIFF...: --set temperature/tint).")
@click.option("--lens", "lens", metavar="auto|off|MODEL",
              help="Lens corrections from lensfun: auto (EXIF lens), off, or a lens model name.")
@click.option("--version", "version_id", type=ID, help="Edit this version (virtual copy) instead of the master.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def edit_cmd(ctx, ids, sets, layer_name, mask_json, opacity, disable, recipe_file, straighten, crop, wb, wb_pick,
             lens, version_id, as_json):
    """Change the edit of each image ID (one history step each)."""
    if version_id is not None and len(ids) > 1:
        fail("--version applies to one image only")
    if mask_json is not None and not layer_name:
        fail("--mask-json needs --layer NAME")
    change = EditChange(
        adjustments=parse_set(sets), layer=layer_name,
        mask=editing.mask_from_file(mask_json) if mask_json is not None else None,
        opacity=opacity, enabled=None if disable is None else not disable, straighten=straighten,
        crop=editing.parse_crop(crop) if crop else UNSET,
        recipe=editing.recipe_from_file(recipe_file) if recipe_file is not None else None,
        recipe_label=f"Recipe from {recipe_file.name}" if recipe_file is not None else "Recipe",
        white_balance=develop.white_balance_settings(wb) if wb else None,
        wb_pick=_point(wb_pick, "--wb-pick") if wb_pick else None, lens=lens,
    ).validate()
    results, failed = [], 0
    for image_id in ids:
        try:
            results.append(editing.apply_edit(ctx.catalog, image_id, change, version_id))
        except MaskroomError as exc:
            failed += 1
            warn(about(f"image {image_id}", exc))
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
    steps = editing.history_rows(ctx.catalog, editing.version_id(ctx.catalog, image_id, version_id))
    if as_json:
        echo_json(steps)
        return
    for st in steps:
        click.echo(f"{'>' if st['current'] else ' '} {st['seq']:3d}  {st['label']}")


def _step(ctx, image_id, version_id, forward: bool) -> None:
    now = editing.step(ctx.catalog, editing.version_id(ctx.catalog, image_id, version_id), forward)
    if now is None:
        fail(f"image {image_id}: nothing to {'redo' if forward else 'undo'}")
    click.echo(f"image {image_id}: now at step {now[0]} {now[1]}")


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
    editing.save_snapshot(ctx.catalog, editing.version_id(ctx.catalog, image_id, version_id), name)
    click.echo(f"image {image_id}: snapshot {name!r} saved")


@snapshot.command("restore")
@click.argument("image_id", type=ID)
@click.argument("name")
@click.option("--version", "version_id", type=ID)
@pass_ctx
def snapshot_restore(ctx, image_id, name, version_id):
    try:
        editing.restore_snapshot(ctx.catalog, editing.version_id(ctx.catalog, image_id, version_id), name)
    except MaskroomError as exc:
        fail(about(f"image {image_id}", exc))
    click.echo(f"image {image_id}: snapshot {name!r} restored")


@snapshot.command("list")
@click.argument("image_id", type=ID)
@click.option("--version", "version_id", type=ID)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def snapshot_list(ctx, image_id, version_id, as_json):
    snaps = editing.list_snapshots(ctx.catalog, editing.version_id(ctx.catalog, image_id, version_id))
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
    try:
        vid, vname = editing.create_virtual_copy(ctx.catalog, image_id, from_version=from_version, name=name)
    except MaskroomError as exc:
        fail(about(f"image {image_id}", exc))
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
    try:
        editing.save_develop_preset(ctx.catalog, name, editing.version_id(ctx.catalog, image_id, version_id),
                                    list(layers) or None)
    except MaskroomError as exc:
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
    failed = 0
    for image_id in library.select_ids(ctx.catalog, ids, filters, every):
        try:
            editing.apply_develop_preset(ctx.catalog, editing.version_id(ctx.catalog, image_id), name, mode)
            click.echo(f"image {image_id}: preset {name!r} applied ({mode})")
        except MaskroomError as exc:
            failed += 1
            warn(about(f"image {image_id}", exc))
    if failed:
        raise SystemExit(1)


@preset.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def preset_list(ctx, as_json):
    rows = editing.preset_rows(ctx.catalog)
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
    try:
        editing.export_develop_preset(ctx.catalog, name, file)
    except (MaskroomError, OSError) as exc:
        fail(f"preset {name!r}: {exc}")
    click.echo(f"preset {name!r} written to {file}")


@preset.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", help="Store under this name instead of the file's.")
@pass_ctx
def preset_import(ctx, file, name):
    pname = editing.import_develop_preset(ctx.catalog, file, name)
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
    vid = editing.version_id(ctx.catalog, image_id, version_id)
    try:
        develop.render_to_file(ctx.catalog, vid, out, long_edge=size, colorspace=colorspace, bits=int(bits),
                               mask_layer=mask_layer)
    except (MaskroomError, LookupError, ValueError) as exc:
        fail(about(f"image {image_id}", exc))
    click.echo(f"image {image_id}: rendered to {out}")


SPARK = " ▁▂▃▄▅▆▇█"


@main.command("histogram")
@click.argument("image_id", type=ID)
@click.option("--version", "version_id", type=ID, help="A virtual copy instead of the master.")
@click.option("--json", "as_json", is_flag=True, help="All 256 bins of R, G, B and luminance, and the clipping counts.")
@pass_ctx
def histogram_cmd(ctx, image_id, version_id, as_json):
    """RGB + luminance histogram of IMAGE_ID's rendered preview, with clipping counts."""
    try:
        h = develop.version_histogram(ctx.catalog, image_id, version_id)
    except (LookupError, MaskroomError) as exc:
        fail(about(f"image {image_id}", exc))
    if as_json:
        echo_json({"image_id": image_id, **h.to_dict()})
        return
    lum = h.luminance
    cols = [sum(lum[i:i + 4]) for i in range(0, 256, 4)]
    top = max(cols) or 1
    click.echo(f"image {image_id}: {h.width}x{h.height} preview")
    click.echo("luminance |" + "".join(SPARK[round(c / top * (len(SPARK) - 1))] for c in cols) + "|")
    pct = lambda n: 100.0 * n / h.pixels  # noqa: E731
    click.echo(f"shadows clipped:    {h.clipped_shadows} px ({pct(h.clipped_shadows):.2f} %)  "
               + " ".join(f"{k[0].upper()} {v['shadows']}" for k, v in h.clipped_channels.items()))
    click.echo(f"highlights clipped: {h.clipped_highlights} px ({pct(h.clipped_highlights):.2f} %)  "
               + " ".join(f"{k[0].upper()} {v['highlights']}" for k, v in h.clipped_channels.items()))


@main.command("lens-default")
@click.argument("value", required=False, metavar="[auto|off]")
@pass_ctx
def lens_default_cmd(ctx, value):
    """Lens corrections for photos whose edit names none: auto (from the EXIF lens, where
    lensfun has a profile) or off.  Without VALUE: print the current default."""
    if value is not None:
        try:
            value = develop.set_lens_default(ctx.catalog, value)
        except MaskroomError as exc:
            fail(str(exc))
    click.echo(f"lens corrections by default: {value or develop.lens_default(ctx.catalog)}")
