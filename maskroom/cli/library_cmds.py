"""`maskroom import | ls | show | meta | rate | flag | label | tag | collection`: parsers and
printers over services.library and services.importing."""
from __future__ import annotations

from pathlib import Path

import click

from maskroom.cli.base import ID, echo_json, echo_json_list, fail, main, pass_ctx
from maskroom.cli.cluster_cmds import cluster_for, cluster_options
from maskroom.core.paths import display_path, one_line
from maskroom.core.progress import RichProgress
from maskroom.services import library

filter_option = click.option("--filter", "-f", "filters", multiple=True, metavar="KEY=VALUE",
                             help="Filter, repeatable: rating>=3 flag=pick label=red keyword=A|B camera=X "
                                  "lens=Y iso=100-800 date=2024-05-01..2024-05-31 folder=/p collection=N "
                                  "text=IMG series=ID id=1-9")


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--recursive", "-r", is_flag=True, help="Descend into sub-folders.")
@click.option("--copy-to", type=click.Path(file_okay=False, path_type=Path),
              help="Copy originals into this library folder first.")
@click.option("--template", default="{date:%Y/%Y-%m-%d}/{name}", show_default=True,
              help="Where copies go under --copy-to (fields: date, name, camera).")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), help="Worker processes (default: all cores).")
@cluster_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def import_cmd(ctx, paths, recursive, copy_to, template, jobs, cluster, path_maps, as_json):
    """Import photos (JPEG, PNG, TIFF, WebP, HEIC, camera RAW) into the catalog."""
    # Here, not at the top: the import engine (decoders, numpy, OpenCV) would cost `ls`,
    # `rate` & co. ~0.5 s of start-up.
    from maskroom.services.importing import import_photos

    catalog = ctx.catalog
    cluster = cluster_for(catalog, cluster, path_maps)
    with RichProgress(unit="files", enabled=None if not as_json else False) as progress:
        try:
            result = import_photos(catalog, paths, progress, recursive=recursive, copy_to=copy_to,
                                   template=template, jobs=jobs, cluster=cluster)
        except KeyboardInterrupt:
            fail("import interrupted: the catalog is consistent; run the same command again to finish")
    report, synced = result.report, result.auto_synced
    if as_json:
        echo_json({**report.to_dict(), "auto_synced": synced})
    else:
        updated = f"updated {len(report.updated)} (changed since import), " if report.updated else ""
        click.echo(f"imported {len(report.imported)}, moved {len(report.moved)}, {updated}"
                   f"already in catalog {len(report.duplicates)}, skipped {len(report.skipped)} "
                   f"(import session {report.session_id})")
        for path, reason in report.skipped:
            click.echo(f"  skipped {display_path(path)}: {one_line(reason)}", err=True)
        if report.xmp_read:
            click.echo(f"read XMP for {len(report.xmp_read)}; not mapped for {len(report.xmp_unmapped)} "
                       "(listed by `maskroom show ID`)" if report.xmp_unmapped else
                       f"read XMP for {len(report.xmp_read)}")
        if synced:
            click.echo(f"auto-synced {len(synced)} new frame(s) from their series' edit")


@main.command("ls")
@filter_option
@click.option("--sort", default="capture", show_default=True,
              help="capture | name | rating | imported | id | camera | size; '-' prefix for descending.")
@click.option("--limit", type=ID, help="At most this many rows.")
@click.option("--versions", is_flag=True,
              help="Also list each photo's virtual copies after it, as the app's grid shows them.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def ls_cmd(ctx, filters, sort, limit, versions, as_json):
    """List images, filtered and sorted (rows are written as the catalog reads them)."""
    rows = library.iter_images(ctx.catalog, filters, sort, limit, versions)
    if as_json:
        echo_json_list(rows)
        return
    photos = copies = 0
    for r in rows:
        if not photos + copies:
            click.echo(f"{'ID':>6}  {'STARS':<5} {'F'} {'LABEL':<6} {'CAPTURED':<19}  {'CAMERA':<24}  FILE")
        stars = "*" * r["rating"] or "-"
        when = (r["capture_time"] or "")[:19].replace("T", " ") or "-"
        flag = {"pick": "P", "reject": "X"}.get(r["flag"], "-")
        name = display_path(r["filename"])  # one row per photo whatever its name holds
        name = f"{name}  [{r['copy']}, version {r['version']}]" if r.get("copy") else name
        click.echo(f"{r['id']:>6}  {stars:<5} {flag} {(r['label'] or '-')[:6]:<6} {when:<19}  "
                   f"{(r['camera'] or '-')[:24]:<24}  {name}")
        if r.get("copy"):
            copies += 1
        else:
            photos += 1
    click.echo(f"{photos} image(s)" + (f", {copies} virtual cop{'y' if copies == 1 else 'ies'}"
                                      if copies else ""), err=True)


@main.command("show")
@click.argument("image_id", type=ID)
@click.option("--json", "as_json", is_flag=True)
@click.option("--exif", "with_exif", is_flag=True, help="Also print every EXIF tag.")
@pass_ctx
def show_cmd(ctx, image_id, as_json, with_exif):
    """All metadata of one image."""
    d = library.image_details(ctx.catalog, image_id, with_exif=with_exif or as_json)
    if as_json:
        echo_json(d)
        return
    exif = d.pop("exif", None)
    for k, v in library.readable_details(d).items():
        click.echo(f"{k:>15}: {v}")
    if with_exif and exif:
        for k in sorted(exif):
            click.echo(f"{k:>40}: {exif[k]}")


@main.command("meta")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True)
@click.option("--title", help="Title (IPTC; XMP dc:title). An empty value clears it.")
@click.option("--caption", help="Caption / description (XMP dc:description).")
@click.option("--creator", help="Creator, e.g. the photographer (XMP dc:creator).")
@click.option("--copyright", "copyright_", metavar="TEXT", help="Copyright notice (XMP dc:rights).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def meta_cmd(ctx, ids, filters, every, title, caption, creator, copyright_, as_json):
    """Set the IPTC title, caption, creator and copyright of images (without options:
    print them)."""
    values = {k: v for k, v in (("title", title), ("caption", caption), ("creator", creator),
                                ("copyright", copyright_)) if v is not None}
    chosen = library.select_ids(ctx.catalog, ids, filters, every)
    if values:
        library.set_metadata(ctx.catalog, chosen, values)
        if not as_json:
            click.echo(f"set {', '.join(values)} of {len(chosen)} image(s)")
            return
    rows = [{"id": i, **library.image_metadata(ctx.catalog, i)["iptc"]} for i in chosen]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['id']}: " + "; ".join(f"{k}={r[k]!r}" for k in ("title", "caption", "creator", "copyright")
                                              if r[k]))


def _bulk(ctx, ids, filters, every, op, *args):
    chosen = library.select_ids(ctx.catalog, ids, filters, every)
    return op(ctx.catalog, chosen, *args), len(chosen)


@main.command("rate")
@click.argument("rating", type=click.IntRange(0, 5))
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True)
@pass_ctx
def rate_cmd(ctx, rating, ids, filters, every):
    """Set the star rating (0-5) of images."""
    n, _ = _bulk(ctx, ids, filters, every, library.set_rating, rating)
    click.echo(f"rated {n} image(s) {rating}")


@main.command("flag")
@click.argument("flag", type=click.Choice(["pick", "reject", "none"]))
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True)
@pass_ctx
def flag_cmd(ctx, flag, ids, filters, every):
    """Flag images as pick or reject (or clear it)."""
    n, _ = _bulk(ctx, ids, filters, every, library.set_flag, flag)
    click.echo(f"flagged {n} image(s) {flag}")


@main.command("label")
@click.argument("label", type=click.Choice(["red", "yellow", "green", "blue", "purple", "none"]))
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True)
@pass_ctx
def label_cmd(ctx, label, ids, filters, every):
    """Set the colour label of images."""
    n, _ = _bulk(ctx, ids, filters, every, library.set_label, label)
    click.echo(f"labelled {n} image(s) {label}")


@main.command("tag")
@click.argument("action", type=click.Choice(["add", "remove"]))
@click.argument("keyword")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@click.option("--all", "every", is_flag=True)
@pass_ctx
def tag_cmd(ctx, action, keyword, ids, filters, every):
    """Add or remove a keyword ('Places|Japan|Kyoto' for a hierarchy)."""
    if action == "add":
        n, total = _bulk(ctx, ids, filters, every, library.add_keywords, [keyword])
    else:
        n, total = _bulk(ctx, ids, filters, every, library.remove_keyword, keyword)
    click.echo(f"{'tagged' if action == 'add' else 'untagged'} {n} of {total} image(s): {keyword}")


@main.command("copy-remove")
@click.argument("version_ids", nargs=-1, required=True, type=ID)
@pass_ctx
def copy_remove_cmd(ctx, version_ids):
    """Remove virtual copies by version id (`ls --versions` lists them); photos stay."""
    gone = library.remove_virtual_copies(ctx.catalog, version_ids)
    click.echo(f"removed {len(gone)} virtual cop{'y' if len(gone) == 1 else 'ies'}")


@main.command("keywords")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def keywords_cmd(ctx, as_json):
    """Every keyword with the number of photos tagged with it."""
    rows = [{"keyword": k, "images": n} for k, n in library.keyword_counts(ctx.catalog)]
    if as_json:
        echo_json(rows)
    else:
        for r in rows:
            click.echo(f"{r['images']:>6}  {r['keyword']}")


@main.group("collection")
def collection_group():
    """Collections: create, add, remove, list."""


@collection_group.command("create")
@click.argument("name")
@filter_option
@click.option("--smart", is_flag=True, help="A smart collection: holds whatever matches --filter.")
@pass_ctx
def collection_create(ctx, name, filters, smart):
    library.create_collection(ctx.catalog, name, smart_filter=library.parse_filters(filters) if smart else None)
    click.echo(f"created {'smart ' if smart else ''}collection {name!r}")


@collection_group.command("rename")
@click.argument("name")
@click.argument("new_name")
@pass_ctx
def collection_rename(ctx, name, new_name):
    library.rename_collection(ctx.catalog, name, new_name)
    click.echo(f"renamed collection {name!r} to {new_name!r}")


@collection_group.command("delete")
@click.argument("name")
@pass_ctx
def collection_delete(ctx, name):
    """Delete a collection (its photos stay in the catalog)."""
    n = library.delete_collection(ctx.catalog, name)
    click.echo(f"deleted collection {name!r} ({n} photo(s) stay in the catalog)")


@collection_group.command("add")
@click.argument("name")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@pass_ctx
def collection_add(ctx, name, ids, filters):
    n = library.add_to_collection(ctx.catalog, name, library.select_ids(ctx.catalog, ids, filters))
    click.echo(f"added {n} image(s) to {name!r}")


@collection_group.command("remove")
@click.argument("name")
@click.argument("ids", nargs=-1, type=ID)
@filter_option
@pass_ctx
def collection_remove(ctx, name, ids, filters):
    n = library.remove_from_collection(ctx.catalog, name, library.select_ids(ctx.catalog, ids, filters))
    click.echo(f"removed {n} image(s) from {name!r}")


@collection_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def collection_list(ctx, as_json):
    rows = [{k: r[k] for k in ("id", "name", "smart", "images")} for r in library.collections(ctx.catalog)]
    if as_json:
        echo_json(rows)
    else:
        for r in rows:
            click.echo(f"{r['id']:>4}  {r['name']}{' (smart)' if r['smart'] else ''}: {r['images']} image(s)")


@main.command("problems")
@click.option("--session", "session_id", type=ID, help="One import session (default: the last).")
@pass_ctx
def problems_cmd(ctx, session_id):
    """Files an import skipped, with the reason."""
    for path, reason in library.import_problems(ctx.catalog, session_id):
        click.echo(f"{path}: {reason}")
