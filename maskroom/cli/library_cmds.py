"""`maskroom import | ls | show | rate | flag | label | tag | collection`."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from maskroom.catalog import library
from maskroom.catalog.library import camera_name  # "Canon EOS R5", not "Canon Canon EOS R5"
from maskroom.catalog.queries import FilterError, build_id_query, build_query, parse_filter_args
from maskroom.catalog.schema import FLAG_PICK, FLAG_REJECT, Image, ImportProblem, Series
from maskroom.cli.base import echo_json, fail, failing_on, main, pass_ctx
from maskroom.cli.cluster_cmds import cluster_for, cluster_options
from maskroom.core.errors import MaskroomError
from maskroom.core.progress import RichProgress

filter_option = click.option("--filter", "-f", "filters", multiple=True, metavar="KEY=VALUE",
                             help="Filter, repeatable: rating>=3 flag=pick label=red keyword=A|B camera=X "
                                  "lens=Y iso=100-800 date=2024-05-01..2024-05-31 folder=/p collection=N "
                                  "text=IMG series=ID id=1-9")


def parse_filters(filters) -> dict:
    try:
        return parse_filter_args(filters)
    except FilterError as exc:
        fail(str(exc))


def resolved_filters(session, filters: tuple[str, ...]) -> dict:
    """--filter values parsed, with collection=NAME resolved to its members (or its
    smart filter); an unknown collection is one clear line."""
    f = parse_filters(filters)
    if "collection" in f:
        with failing_on(library.LibraryError):
            f = {**f, **library.collection_filter(session, f["collection"])}
    return f


def selected_ids(session, ids: tuple[int, ...], filters: tuple[str, ...], every: bool = False) -> list[int]:
    """Image ids from explicit IDs, a filter, or --all; unknown ids are an error."""
    if not ids and not filters and not every:
        fail("name images by ID, --filter KEY=VALUE or --all")
    chosen: set[int] = set()
    if ids:
        found = set(session.scalars(select(Image.id).where(Image.id.in_(ids))))
        missing = sorted(set(ids) - found)
        if missing:
            fail(f"no image with id {', '.join(map(str, missing))}")
        chosen |= found
    if filters or every:
        f = resolved_filters(session, filters)
        try:
            chosen |= set(session.scalars(build_id_query(f)))
        except FilterError as exc:
            fail(str(exc))
    return sorted(chosen)


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--recursive", "-r", is_flag=True, help="Descend into sub-folders.")
@click.option("--copy-to", type=click.Path(file_okay=False, path_type=Path),
              help="Copy originals into this library folder first.")
@click.option("--template", default="{date:%Y/%Y-%m-%d}/{name}", show_default=True,
              help="Where copies go under --copy-to (fields: date, name, camera).")
@click.option("--jobs", "-j", type=int, help="Worker processes (default: all cores).")
@cluster_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def import_cmd(ctx, paths, recursive, copy_to, template, jobs, cluster, path_maps, as_json):
    """Import photos (JPEG, PNG, TIFF, WebP, HEIC, camera RAW) into the catalog."""
    from maskroom.engine.importer import run_import

    catalog = ctx.catalog
    cluster = cluster_for(catalog, cluster, path_maps)
    with RichProgress(unit="files", enabled=None if not as_json else False) as progress:
        try:
            report = run_import(catalog, paths, recursive=recursive, copy_to=copy_to,
                                template=template if copy_to else None, jobs=jobs, progress=progress,
                                cluster=cluster)
        except MaskroomError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("import interrupted: the catalog is consistent; run the same command again to finish")
        # New frames join their series; a series marked auto-sync gives them its edit.
        synced = []
        if report.imported:
            from maskroom.engine.sync.engine import auto_sync_new_images

            synced = [t for t in auto_sync_new_images(catalog, report.imported, progress=progress)
                      if t.status == "synced"]
    if as_json:
        echo_json({**report.to_dict(), "auto_synced": [t.image_id for t in synced]})
    else:
        click.echo(f"imported {len(report.imported)}, moved {len(report.moved)}, "
                   f"already in catalog {len(report.duplicates)}, skipped {len(report.skipped)} "
                   f"(import session {report.session_id})")
        for path, reason in report.skipped:
            click.echo(f"  skipped {path}: {reason}", err=True)
        if synced:
            click.echo(f"auto-synced {len(synced)} new frame(s) from their series' edit")


def image_summary(img: Image) -> dict:
    flag = {FLAG_PICK: "pick", FLAG_REJECT: "reject"}.get(img.flag, "none")
    return {
        "id": img.id, "path": img.path, "filename": img.filename, "format": img.format,
        "width": img.width, "height": img.height,
        "capture_time": img.capture_time.isoformat() if img.capture_time else None,
        "camera": camera_name(img.camera_make, img.camera_model) or None,
        "lens": img.lens, "iso": img.iso, "rating": img.rating, "flag": flag, "label": img.color_label,
        "series": img.series_id,
    }


@main.command("ls")
@filter_option
@click.option("--sort", default="capture", show_default=True,
              help="capture | name | rating | imported | id | camera | size; '-' prefix for descending.")
@click.option("--limit", type=int, help="At most this many rows.")
@click.option("--versions", is_flag=True,
              help="Also list each photo's virtual copies after it, as the app's grid shows them.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def ls_cmd(ctx, filters, sort, limit, versions, as_json):
    """List images, filtered and sorted."""
    from maskroom.catalog.queries import list_entries
    from maskroom.catalog.schema import EditVersion

    with ctx.catalog.session() as s:
        f = resolved_filters(s, filters)
        images: dict[int, Image] = {}
        try:
            if versions:  # the grid's list (catalog.queries.list_entries): photos, each then its copies
                entries = list_entries(s, f, sort)[:limit] if limit else list_entries(s, f, sort)
                ids = sorted({i for i, _ in entries})
                for n in range(0, len(ids), 5000):
                    images.update((i.id, i) for i in s.scalars(select(Image).where(Image.id.in_(ids[n:n + 5000]))))
            else:
                stmt = build_query(f, sort)
                images = {i.id: i for i in s.scalars(stmt.limit(limit) if limit else stmt)}
                entries = [(i, None) for i in images]  # (dicts keep the query's order)
        except FilterError as exc:
            fail(str(exc))
        copy_ids = [v for _, v in entries if v is not None]
        names = dict(s.execute(select(EditVersion.id, EditVersion.name)
                               .where(EditVersion.id.in_(copy_ids))).all()) if copy_ids else {}
        rows = []
        for image_id, vid in entries:
            r = image_summary(images[image_id])
            if versions:
                r.update({"version": vid, "copy": names.get(vid)} if vid else {"version": None, "copy": None})
            rows.append(r)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        stars = "*" * r["rating"]
        when = (r["capture_time"] or "")[:19].replace("T", " ")
        name = f"{r['filename']}  [{r['copy']}, version {r['version']}]" if r.get("copy") else r["filename"]
        click.echo(f"{r['id']:>6}  {stars:<5} {r['flag'][:1] if r['flag'] != 'none' else ' '} "
                   f"{(r['label'] or '')[:6]:<6} {when:<19}  {(r['camera'] or '')[:24]:<24}  {name}")
    copies = sum(1 for r in rows if r.get("copy"))
    click.echo(f"{len(rows) - copies} image(s)" + (f", {copies} virtual cop{'y' if copies == 1 else 'ies'}"
                                                  if copies else ""), err=True)


@main.command("show")
@click.argument("image_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.option("--exif", "with_exif", is_flag=True, help="Also print every EXIF tag.")
@pass_ctx
def show_cmd(ctx, image_id, as_json, with_exif):
    """All metadata of one image."""
    with ctx.catalog.session() as s:
        img = s.get(Image, image_id)
        if img is None:
            fail(f"no image with id {image_id}")
        d = image_summary(img)
        d.update({
            "file_size": img.file_size, "content_hash": img.content_hash, "orientation": img.orientation,
            "camera_make": img.camera_make, "camera_model": img.camera_model, "focal_length": img.focal_length,
            "aperture": img.aperture, "shutter": img.shutter, "exposure_bias": img.exposure_bias,
            "gps": [img.gps_lat, img.gps_lon, img.gps_alt] if img.gps_lat is not None else None,
            "keywords": library.image_keywords(s, img.id),
            "sidecars": [{"path": sc.path, "role": sc.role} for sc in img.sidecars],
            "versions": [{"id": v.id, "name": v.name, "master": v.is_master} for v in img.versions],
            "series_name": s.get(Series, img.series_id).name if img.series_id else None,
            "import_session": img.import_session_id, "imported_at": img.imported_at.isoformat(),
            "missing": img.missing, **img.extra,
        })
        if with_exif or as_json:
            d["exif"] = img.exif
    if as_json:
        echo_json(d)
        return
    exif = d.pop("exif", None)
    for k, v in d.items():
        if v not in (None, [], ""):
            click.echo(f"{k:>15}: {v}")
    if with_exif and exif:
        for k in sorted(exif):
            click.echo(f"{k:>40}: {exif[k]}")


def _bulk(ctx, ids, filters, every, op, *args):
    with ctx.catalog.session() as s:
        chosen = selected_ids(s, ids, filters, every)
        with failing_on(library.LibraryError):
            n = op(s, chosen, *args)
    return n, len(chosen)


@main.command("rate")
@click.argument("rating", type=click.IntRange(0, 5))
@click.argument("ids", nargs=-1, type=int)
@filter_option
@click.option("--all", "every", is_flag=True)
@pass_ctx
def rate_cmd(ctx, rating, ids, filters, every):
    """Set the star rating (0-5) of images."""
    n, _ = _bulk(ctx, ids, filters, every, library.set_rating, rating)
    click.echo(f"rated {n} image(s) {rating}")


@main.command("flag")
@click.argument("flag", type=click.Choice(["pick", "reject", "none"]))
@click.argument("ids", nargs=-1, type=int)
@filter_option
@click.option("--all", "every", is_flag=True)
@pass_ctx
def flag_cmd(ctx, flag, ids, filters, every):
    """Flag images as pick or reject (or clear it)."""
    n, _ = _bulk(ctx, ids, filters, every, library.set_flag, flag)
    click.echo(f"flagged {n} image(s) {flag}")


@main.command("label")
@click.argument("label", type=click.Choice(["red", "yellow", "green", "blue", "purple", "none"]))
@click.argument("ids", nargs=-1, type=int)
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
@click.argument("ids", nargs=-1, type=int)
@filter_option
@click.option("--all", "every", is_flag=True)
@pass_ctx
def tag_cmd(ctx, action, keyword, ids, filters, every):
    """Add or remove a keyword ('Places|Japan|Kyoto' for a hierarchy)."""
    op = library.add_keyword if action == "add" else library.remove_keyword
    n, total = _bulk(ctx, ids, filters, every, op, keyword)
    click.echo(f"{'tagged' if action == 'add' else 'untagged'} {n} of {total} image(s): {keyword}")


@main.command("copy-remove")
@click.argument("version_ids", nargs=-1, required=True, type=int)
@pass_ctx
def copy_remove_cmd(ctx, version_ids):
    """Remove virtual copies by version id (`ls --versions` lists them); photos stay."""
    with ctx.catalog.session() as s:
        with failing_on(library.LibraryError):
            gone = library.remove_virtual_copies(s, version_ids)
    click.echo(f"removed {len(gone)} virtual cop{'y' if len(gone) == 1 else 'ies'}")


@main.command("keywords")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def keywords_cmd(ctx, as_json):
    """Every keyword with the number of photos tagged with it."""
    with ctx.catalog.session() as s:
        rows = [{"keyword": k, "images": n} for k, n in library.keyword_counts(s)]
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
    with ctx.catalog.session() as s:
        with failing_on(library.LibraryError):
            library.create_collection(s, name, smart_filter=parse_filters(filters) if smart else None)
    click.echo(f"created {'smart ' if smart else ''}collection {name!r}")


@collection_group.command("rename")
@click.argument("name")
@click.argument("new_name")
@pass_ctx
def collection_rename(ctx, name, new_name):
    with ctx.catalog.session() as s:
        with failing_on(library.LibraryError):
            library.rename_collection(s, name, new_name)
    click.echo(f"renamed collection {name!r} to {new_name!r}")


@collection_group.command("delete")
@click.argument("name")
@pass_ctx
def collection_delete(ctx, name):
    """Delete a collection (its photos stay in the catalog)."""
    with ctx.catalog.session() as s:
        with failing_on(library.LibraryError):
            n = library.delete_collection(s, name)
    click.echo(f"deleted collection {name!r} ({n} photo(s) stay in the catalog)")


@collection_group.command("add")
@click.argument("name")
@click.argument("ids", nargs=-1, type=int)
@filter_option
@pass_ctx
def collection_add(ctx, name, ids, filters):
    with ctx.catalog.session() as s:
        chosen = selected_ids(s, ids, filters)
        with failing_on(library.LibraryError):
            n = library.add_to_collection(s, name, chosen)
    click.echo(f"added {n} image(s) to {name!r}")


@collection_group.command("remove")
@click.argument("name")
@click.argument("ids", nargs=-1, type=int)
@filter_option
@pass_ctx
def collection_remove(ctx, name, ids, filters):
    with ctx.catalog.session() as s:
        chosen = selected_ids(s, ids, filters)
        with failing_on(library.LibraryError):
            n = library.remove_from_collection(s, name, chosen)
    click.echo(f"removed {n} image(s) from {name!r}")


@collection_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def collection_list(ctx, as_json):
    with ctx.catalog.session() as s:
        rows = [{k: r[k] for k in ("id", "name", "smart", "images")} for r in library.collection_counts(s)]
    if as_json:
        echo_json(rows)
    else:
        for r in rows:
            click.echo(f"{r['id']:>4}  {r['name']}{' (smart)' if r['smart'] else ''}: {r['images']} image(s)")


@main.command("problems")
@click.option("--session", "session_id", type=int, help="One import session (default: the last).")
@pass_ctx
def problems_cmd(ctx, session_id):
    """Files an import skipped, with the reason."""
    from maskroom.catalog.schema import ImportSession

    with ctx.catalog.session() as s:
        if session_id is None:
            session_id = s.scalar(select(ImportSession.id).order_by(ImportSession.id.desc()).limit(1))
        for p in s.scalars(select(ImportProblem).where(ImportProblem.session_id == session_id)):
            click.echo(f"{p.path}: {p.reason}")
