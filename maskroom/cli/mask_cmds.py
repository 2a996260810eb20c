"""`maskroom mask add|set|list|render|refresh|remove` (measuring a kind on pairs: tools/eval_masks.py)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from maskroom.cli.base import ID, echo_json, fail, main, pass_ctx, warn
from maskroom.cli.cluster_cmds import cluster_for, cluster_options
from maskroom.cli.library_cmds import filter_option
from maskroom.core.errors import MaskroomError, about
from maskroom.core.progress import RichProgress
from maskroom.core.recipe import ALL_KINDS, MODES, MaskComponent
from maskroom.services import editing, library, masks

KIND_CHOICES = sorted(ALL_KINDS - {"all"})


def _warn_masks(image_id: int, layer_name: str, warnings) -> list[dict]:
    """One warning line per empty or doubtful AI component; the same as JSON rows."""
    rows = []
    for uid, kind, conf, reason in warnings:
        tail = "" if conf is None else f" (confidence {conf:.2f})"
        warn(f"warning: image {image_id} layer {layer_name!r} [{kind}]: {reason}{tail}")
        rows.append({"uid": uid, "kind": kind, "confidence": conf, "reason": reason})
    return rows


@main.group()
def mask() -> None:
    """Add, list, render and refresh masks of an image's edit."""


version_option = click.option("--version", "version_id", type=ID,
                              help="This version (virtual copy) instead of the master.")


def _parse_params(text: str) -> dict:
    try:
        params = json.loads(text)
    except ValueError as exc:
        fail(f"--params: not JSON ({exc})")
    if not isinstance(params, dict):
        fail("--params: expected a JSON object")
    return params


def _parse_box(text: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        fail(f"--box {text!r}: expected four numbers x0,y0,x1,y1")
    if len(vals) != 4 or not all(0.0 <= v <= 1.0 for v in vals):
        fail(f"--box {text!r}: expected four numbers x0,y0,x1,y1 within 0..1")
    return vals


def _parse_lasso(path: Path) -> list[list[float]]:
    try:
        pts = json.loads(Path(path).read_text())
        pts = [[float(p[0]), float(p[1])] for p in pts]
    except (OSError, ValueError, TypeError, IndexError) as exc:
        fail(f"{path}: not a JSON list of [x, y] points ({exc})")
    if len(pts) < 3:
        fail(f"{path}: a lasso needs at least 3 points")
    return pts


@mask.command("add")
@click.argument("image_id", type=ID)
@version_option
@click.option("--kind", required=True, type=click.Choice(KIND_CHOICES))
@click.option("--person", type=int, help="Person index, 0-based, left to right (person and face-part kinds).")
@click.option("--box", help="Object box x0,y0,x1,y1 (normalised 0..1).")
@click.option("--lasso", type=click.Path(path_type=Path), help="JSON file with [[x, y], ...] normalised points.")
@click.option("--params", "params_json", help="Kind parameters as a JSON object.")
@click.option("--mode", type=click.Choice(MODES), default="add", show_default=True)
@click.option("--layer", "layer_name", help="Layer to add to (created if missing; default: the kind's name).")
@click.option("--invert", is_flag=True)
@click.option("--feather", type=float, default=0.0, help="Feather, fraction of the long edge.")
@click.option("--grow", type=float, default=0.0, help="Grow (>0) or shrink (<0), fraction of the long edge.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def mask_add(ctx, image_id, version_id, kind, person, box, lasso, params_json, mode, layer_name, invert, feather, grow, as_json):
    """Add a mask component to a layer of IMAGE_ID's edit."""
    params = _parse_params(params_json) if params_json else {}
    if person is not None:
        params["person"] = person
    if box:
        params["box"] = _parse_box(box)
    if lasso:
        params["lasso"] = _parse_lasso(lasso)
    if kind == "object" and "box" not in params and "lasso" not in params:
        fail("--kind object needs --box or --lasso")
    comp = MaskComponent(kind=kind, mode=mode, inverted=invert, params=params, feather=feather, grow=grow)
    version_id = editing.version_id(ctx.catalog, image_id, version_id)
    name, notes, warnings = masks.add_component(ctx.catalog, version_id, comp, layer_name)
    for line in notes:
        warn(f"warning: image {image_id}: {line}")
    if not as_json:
        click.echo(f"{comp.uid}  {kind} -> layer {name!r} (image {image_id})")
    rows = _warn_masks(image_id, name, warnings)
    if as_json:
        echo_json({"image_id": image_id, "version_id": version_id, "layer": name, "uid": comp.uid, "kind": kind,
                   "warnings": rows})


@mask.command("set")
@click.argument("image_id", type=ID)
@click.argument("uid")
@version_option
@click.option("--params", "params_json", required=True,
              help='Params to change as a JSON object, e.g. \'{"cx": 0.4, "rx": 0.2}\' or \'{"box": [0.1, 0.2, 0.5, 0.9]}\'.')
@click.option("--replace", is_flag=True, help="The params become exactly these (default: merge into the old ones).")
@pass_ctx
def mask_set(ctx, image_id, uid, version_id, params_json, replace):
    """Change the params of mask component UID of IMAGE_ID's edit (move a gradient,
    resize an object box); one history step (`maskroom undo` takes it back)."""
    params = _parse_params(params_json)
    if "box" in params:
        box = params["box"]
        params["box"] = _parse_box(",".join(map(str, box)) if isinstance(box, list) else str(box))
    version_id = editing.version_id(ctx.catalog, image_id, version_id)
    try:
        comp = editing.update_mask_component(ctx.catalog, version_id, uid, params, replace=replace)
    except MaskroomError as exc:
        fail(about(f"image {image_id}", exc))
    click.echo(f"{uid}  {comp.kind} {json.dumps(comp.params, sort_keys=True)}")


@mask.command("list")
@click.argument("image_id", type=ID)
@version_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def mask_list(ctx, image_id, version_id, as_json):
    """The masked layers of IMAGE_ID's edit and their components."""
    version_id = editing.version_id(ctx.catalog, image_id, version_id)
    rows = masks.list_components(ctx.catalog, version_id)
    if as_json:
        echo_json({"image_id": image_id, "version_id": version_id, "components": rows})
        return
    if not rows:
        click.echo(f"image {image_id}: no masks")
        return
    for r in rows:
        flags = (" inverted" if r["inverted"] else "") + (f" feather={r['feather']}" if r["feather"] else "")
        params = json.dumps(r["params"]) if r["params"] else ""
        click.echo(f"{r['layer']:<16} {r['uid']}  {r['mode']:<9} {r['kind']:<16} {r['raster']:<6}{flags} {params}")


@mask.command("render")
@click.argument("image_id", type=ID)
@version_option
@click.argument("layer_name")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path))
@click.option("--overlay", is_flag=True, help="Draw the mask in red over the photo instead of a grey matte.")
@pass_ctx
def mask_render(ctx, image_id, version_id, layer_name, out_path, overlay):
    """Write LAYER_NAME's mask of IMAGE_ID as a PNG (cached AI rasters are reused)."""
    version_id = editing.version_id(ctx.catalog, image_id, version_id)
    try:
        r = masks.render_layer_mask(ctx.catalog, version_id, layer_name, out_path, overlay_photo=overlay)
    except (MaskroomError, LookupError, OSError, ValueError) as exc:
        fail(about(f"image {image_id}", exc))
    click.echo(f"{out_path}  ({r['width']}x{r['height']}, coverage {r['coverage']:.1%}, "
               f"cache {r['hits']} hit / {r['derived']} derived)")
    _warn_masks(image_id, layer_name, r["warnings"])


@mask.command("refresh")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True, help="Every image in the catalog.")
@click.option("--jobs", type=click.IntRange(1, 256), default=1, show_default=True, help="Images derived in parallel.")
@click.option("--force", is_flag=True, help="Re-derive even when the cached raster is current.")
@cluster_options
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def mask_refresh(ctx, ids, filters, every, jobs, force, cluster, path_maps, as_json):
    """Re-derive stale AI masks of images: IDs, --filter KEY=VALUE (as in `ls`) or --all."""
    ids = library.select_ids(ctx.catalog, ids, filters, every)
    results = []
    with RichProgress(unit="images") as progress:
        for res in masks.refresh(ctx.catalog, ids, jobs=jobs, force=force, progress=progress,
                                 cluster=cluster_for(ctx.catalog, cluster, path_maps)):
            if "error" in res:
                warn(f"image {res['image_id']}: {res['error']}")
            for w in res.get("warnings", []):
                tail = "" if w["confidence"] is None else f" (confidence {w['confidence']:.2f})"
                warn(f"warning: image {res['image_id']} [{w['kind']}]: {w['reason']}{tail}")
            results.append(res)
    derived = sum(r.get("derived", 0) for r in results)
    errors = sum("error" in r for r in results)
    if as_json:
        echo_json({"images": len(results), "derived": derived, "errors": errors, "results": results})
    else:
        click.echo(f"{len(results)} images, {derived} masks derived, {errors} errors")
    if errors and errors == len(results):
        raise SystemExit(1)


@mask.command("remove")
@click.argument("image_id", type=ID)
@version_option
@click.argument("target")
@pass_ctx
def mask_remove(ctx, image_id, version_id, target):
    """Remove a component (by uid) or a whole masked layer (by name) from IMAGE_ID's edit."""
    version_id = editing.version_id(ctx.catalog, image_id, version_id)
    try:
        label = editing.remove_mask(ctx.catalog, version_id, target)
    except MaskroomError as exc:
        fail(about(f"image {image_id}", exc))
    click.echo(label)
