"""Series, sync, review and watch commands."""
from __future__ import annotations

from pathlib import Path

import click

from maskroom.cli.base import ID, echo_json, fail, main, pass_ctx, warn
from maskroom.cli.cluster_cmds import cluster_for, cluster_options
from maskroom.core.progress import RichProgress
from maskroom.services import sync

# -- series -----------------------------------------------------------------

@main.group("series", invoke_without_command=True)
@click.option("--gap", default="30s", show_default=True, help="Largest capture-time gap inside a series (30s, 2m).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@click.pass_context
def series_group(cctx: click.Context, ctx, gap: str, as_json: bool) -> None:
    """Detect series (bursts, brackets, sittings) and list them.

    Frames of the same camera body and lens, at most GAP apart, that look alike form a
    series.  Series you merged or split by hand are kept as they are.
    """
    if cctx.invoked_subcommand is not None:
        return
    found = sync.detect_series(ctx.catalog, gap)
    if as_json:
        echo_json([s.to_dict() for s in found])
        return
    if not found:
        click.echo("no series (frames need capture times within the gap, same camera and lens)")
        return
    for s in found:
        flags = " ".join(x for x, on in (("auto-sync", s.auto_sync), ("locked", s.locked)) if on)
        ids = ",".join(str(i) for i in s.image_ids[:8]) + ("..." if len(s.image_ids) > 8 else "")
        click.echo(f"{s.id:>5}  {s.name:<28} {len(s.image_ids):>4} images  [{ids}] {flags}".rstrip())


@series_group.command("merge")
@click.argument("a", type=ID)
@click.argument("b", type=ID)
@pass_ctx
def series_merge(ctx, a: int, b: int) -> None:
    """Move series B's images into series A (A is then locked against regrouping)."""
    sync.merge_series(ctx.catalog, a, b)
    click.echo(f"merged series {b} into {a}")


@series_group.command("split")
@click.argument("series_id", type=ID)
@click.option("--at", "at_image", type=ID, required=True, help="First image of the new series.")
@pass_ctx
def series_split(ctx, series_id: int, at_image: int) -> None:
    """Split a series: IMAGE and the frames after it become a new series."""
    new = sync.split_series(ctx.catalog, series_id, at_image)
    click.echo(f"series {series_id} split: frames from image {at_image} on are series {new}")


@series_group.command("auto-sync")
@click.argument("series_id", type=ID)
@click.argument("state", type=click.Choice(["on", "off"]))
@click.option("--source", type=ID, default=None, help="Image whose edit new members get (default: last sync source).")
@pass_ctx
def series_auto_sync(ctx, series_id: int, state: str, source: int | None) -> None:
    """New members of the series (import, watch) get the series' source edit."""
    if not sync.set_auto_sync(ctx.catalog, series_id, state == "on", source):
        warn(f"series {series_id}: no source edit yet: run `maskroom sync IMAGE --series` or pass --source")
    click.echo(f"series {series_id}: auto-sync {state}")


# -- sync -------------------------------------------------------------------

@main.command("sync")
@click.argument("source")
@click.option("--to", "to_ids", multiple=True, type=ID, metavar="ID", help="Target image id (repeatable).")
@click.option("--series", "use_series", is_flag=True, help="Every other frame of the source's series.")
@click.option("--filter", "-f", "filters", multiple=True, metavar="KEY=VALUE", help="Targets by filter (as `ls`).")
@click.option("--what", default="adjustments,masks", show_default=True,
              help="Parts to carry: adjustments, masks, crop, raw (comma separated).")
@click.option("--layers", default=None, metavar="NAME,...", help="Only these masked layers.")
@click.option("--mode", type=click.Choice(["replace", "merge"]), default="replace", show_default=True,
              help="replace: targets' masked layers become the source's; merge: same-named layers replaced, others kept.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing, derive nothing.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=1, show_default=True, help="Worker processes.")
@cluster_options
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def sync_cmd(ctx, source, to_ids, use_series, filters, what, layers, mode, dry_run, jobs, cluster, path_maps,
             as_json) -> None:
    """Carry SOURCE's edit (image id, or vN for a version) to other frames.

    AI masks are re-derived on each target, brushes and gradients move with the
    frame, range masks are recomputed.  Doubtful results are listed by `maskroom review`.
    """
    options = sync.parse_options(what, layers, mode)
    try:
        with RichProgress(unit="images", enabled=None if not as_json else False) as progress:
            report = sync.sync_edit(ctx.catalog, source, to_ids=to_ids, series=use_series, filters=filters,
                                    options=options, dry_run=dry_run, jobs=jobs, progress=progress,
                                    cluster=cluster_for(ctx.catalog, cluster, path_maps))
    except KeyboardInterrupt:
        fail("sync interrupted: every target is fully synced or untouched; run it again to finish")
    if as_json:
        echo_json(report.to_dict())
    else:
        for t in report.targets:
            line = f"image {t.image_id}: {t.status}"
            if t.alignment:
                line += f" (align {t.alignment['method']} q={t.alignment['quality']:.2f})"
            if t.error:
                line += f": {t.error}"
            click.echo(line)
            for c in t.components:
                if c.own_move:
                    dx, dy = c.own_move
                    click.echo(f"    {c.layer} [{c.kind}] followed the subject's own move "
                               f"({dx:+.0%} across, {dy:+.0%} down the frame)")
                if c.flag:
                    click.echo(f"    {c.layer} [{c.kind}] confidence {c.confidence:.2f}: {c.flag}")
        d = report.to_dict()
        if dry_run:
            click.echo(f"{report.count('would-sync')} would change, {d['unchanged']} unchanged, "
                       f"{d['failed']} failed (dry run: nothing written, AI masks not derived)")
        else:
            click.echo(f"{d['synced']} synced, {d['unchanged']} unchanged, {d['failed']} failed, "
                       f"{d['flagged']} flagged for review")
    if report.count("failed"):
        raise SystemExit(1)


# -- review -----------------------------------------------------------------

@main.command("review")
@click.option("--resolve", "resolve_ids", multiple=True, type=ID, metavar="ID", help="Mark a flag as looked at.")
@click.option("--all", "show_all", is_flag=True, help="Include resolved flags.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def review_cmd(ctx, resolve_ids, show_all, as_json) -> None:
    """Synced masks to look at: nothing found on a frame, or a large jump."""
    for rid in resolve_ids:
        try:
            sync.resolve_review(ctx.catalog, rid)
        except LookupError as exc:
            fail(str(exc))
        if not as_json:
            click.echo(f"review item {rid} resolved")
    if resolve_ids and not as_json:
        return
    items = sync.list_review(ctx.catalog, include_resolved=show_all)
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("nothing to review")
        return
    for i in items:
        mark = " (resolved)" if i["resolved"] else ""
        click.echo(f"{i['id']:>5}  image {i['image_id']} {i['filename']}  {i['layer']}: {i['reason']} "
                   f"(confidence {i['confidence']:.2f}){mark}")


# -- watch ------------------------------------------------------------------

@main.command("watch")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--recursive", "-r", is_flag=True, help="Watch sub folders too.")
@click.option("--copy-to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Copy each new photo into this folder (as `import --copy-to`).")
@click.option("--template", default=None, help="Folder/file name template for --copy-to.")
@click.option("--preset", default=None, help="Develop preset applied to each new photo.")
@click.option("--auto-sync", is_flag=True, help="Put new photos into series; auto-sync series give them their edit.")
@click.option("--ignore", multiple=True, type=click.Path(path_type=Path), help="Folder never imported (exports).")
@click.option("--settle", type=float, default=2.0, show_default=True,
              help="Seconds a file must stay unchanged before it is imported.")
@click.option("--once", is_flag=True, help="Import what is there now, then exit.")
@pass_ctx
def watch_cmd(ctx, dirs, recursive, copy_to, template, preset, auto_sync, ignore, settle, once) -> None:
    """Import photos arriving in DIR(S) once each is completely written.  Ctrl-C stops."""
    missing = [d for d in dirs if not Path(d).is_dir()]
    if once and missing:
        fail(f"{missing[0]}: not a folder")
    for d in missing:
        warn(f"{d}: does not exist yet; waiting for it")
    opts = sync.WatchOptions(recursive=recursive, copy_to=copy_to, template=template, preset=preset,
                             auto_sync=auto_sync, settle=max(0.0, settle), ignore=list(ignore))
    watcher = sync.make_watcher(ctx.catalog, dirs, opts, log=lambda m: click.echo(m, err=False))
    if once:
        ids = watcher.run_once()
        click.echo(f"{len(ids)} imported")
        return
    click.echo(f"watching {', '.join(str(d) for d in dirs)} (Ctrl-C stops)")
    ids = watcher.run()
    click.echo(f"stopped: {len(ids)} imported")
