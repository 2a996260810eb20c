"""`maskroom thumbs`: make the grid's thumbnails ahead of time (the app makes them on demand)."""
from __future__ import annotations

import click

from maskroom.cli.base import ID, echo_json, fail, main, pass_ctx
from maskroom.cli.cluster_cmds import cluster_for, cluster_options
from maskroom.cli.library_cmds import filter_option
from maskroom.core.progress import RichProgress
from maskroom.services import develop, library


@main.command("thumbs")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True, help="Every photo in the catalog.")
@click.option("--edited", is_flag=True,
              help="Render the edited thumbnail of every edited version (master and virtual copies); "
                   "unedited ones use the imported thumbnail and render nothing.")
@click.option("--derive-masks", is_flag=True,
              help="With --edited: first derive AI masks that have no raster yet (model runs), "
                   "so no thumbnail is provisional.")
@click.option("--prune", is_flag=True, help="Also delete edited thumbnails of removed virtual copies.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="With --edited: worker processes.")
@cluster_options
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def thumbs_cmd(ctx, ids, filters, every, edited, derive_masks, prune, jobs, cluster, path_maps, as_json):
    """Make the grid thumbnails of photos: IDs, --filter KEY=VALUE (as in `ls`) or --all.

    Without --edited, makes missing imported thumbnails; with --edited, the edited
    ones the app's grid shows (the same function and cache).
    """
    if derive_masks and not edited:
        fail("--derive-masks goes with --edited")
    image_ids = library.select_ids(ctx.catalog, ids, filters, every)
    results = []
    with RichProgress(unit="thumbs") as progress:
        for res in develop.make_thumbnails(ctx.catalog, image_ids, progress, edited=edited, derive_masks=derive_masks,
                                           jobs=jobs, cluster=cluster_for(ctx.catalog, cluster, path_maps)):
            if res["status"] == "error":
                progress.message(f"image {res['image_id']}: {res['error']}")
            results.append(res)
    pruned = develop.prune_thumbnails(ctx.catalog) if prune else 0
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    if as_json:
        echo_json({"cells": len(results), "counts": counts, "pruned": pruned, "results": results})
    else:
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to do"
        click.echo(f"{len(results)} {'cells' if edited else 'photos'}: {summary}"
                   + (f"; {pruned} removed copies' thumbnails deleted" if prune else ""))
    if results and counts.get("error", 0) == len(results):
        raise SystemExit(1)
