"""`maskroom thumbs`: make the grid's thumbnails ahead of time (the app makes them on demand)."""
from __future__ import annotations

import click
from sqlalchemy import select

from maskroom.cli.base import ID, echo_json, fail, main, pass_ctx
from maskroom.cli.library_cmds import filter_option, selected_ids


def _cells(session, image_ids: list[int]) -> list[tuple[int, int | None]]:
    """Each photo's cell and its virtual copies' cells, in the grid's order."""
    from maskroom.catalog.schema import EditVersion

    copies: dict[int, list[int]] = {}
    for i in range(0, len(image_ids), 500):
        for image_id, vid in session.execute(
                select(EditVersion.image_id, EditVersion.id).where(
                    EditVersion.image_id.in_(image_ids[i:i + 500]), EditVersion.is_master.is_(False))
                .order_by(EditVersion.id)):
            copies.setdefault(image_id, []).append(vid)
    return [cell for i in image_ids for cell in [(i, None), *((i, v) for v in copies.get(i, ()))]]


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
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def thumbs_cmd(ctx, ids, filters, every, edited, derive_masks, prune, as_json):
    """Make the grid thumbnails of photos: IDs, --filter KEY=VALUE (as in `ls`) or --all.

    Without --edited, makes missing imported thumbnails; with --edited, the edited
    ones the app's grid shows (the same function and cache).
    """
    from maskroom.core.progress import RichProgress

    if derive_masks and not edited:
        fail("--derive-masks goes with --edited")
    cat = ctx.catalog
    with cat.session() as s:
        image_ids = selected_ids(s, ids, filters, every)
        cells = _cells(s, image_ids) if edited else [(i, None) for i in image_ids]
    results = []
    with RichProgress(unit="thumbs") as progress:
        if edited:
            from maskroom.engine.develop.thumbnails import render_edited_thumbnails

            for res in render_edited_thumbnails(cat, cells, derive_masks=derive_masks, progress=progress):
                if res["status"] == "error":
                    progress.message(f"image {res['image_id']}: {res['error']}")
                results.append(res)
        else:
            results = list(_imported(cat, image_ids, progress))
    pruned = 0
    if prune:
        from maskroom.engine.develop.thumbnails import prune as prune_dirs

        pruned = prune_dirs(cat)
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


def _imported(cat, image_ids, progress):
    from maskroom.catalog.schema import Image
    from maskroom.engine.imageio.previews import derivative_path, thumbnail_file

    progress.start(len(image_ids), "thumbnails")
    for image_id in image_ids:
        res = {"image_id": image_id, "version_id": None, "status": "error", "path": None}
        try:
            with cat.session() as s:
                image = s.get(Image, image_id)
                s.expunge(image)
            had = derivative_path(cat.cache_dir, "thumb", image.content_hash).exists()
            res["path"] = str(thumbnail_file(cat, image))
            res["status"] = "cached" if had else "made"
        except Exception as exc:  # one unreadable original must not stop the batch
            res["error"] = str(exc)
            progress.message(f"image {image_id}: {exc}")
        progress.advance(1, str(image_id))
        yield res
