"""`maskroom demo [DIR]`: the whole workflow on the shipped sample photos."""
from __future__ import annotations

from pathlib import Path

import click

from maskroom.cli.base import main, pass_ctx
from maskroom.services.demo import default_workdir, run_demo


@main.command()
@click.argument("workdir", required=False, type=click.Path(file_okay=False, path_type=Path))
@pass_ctx
def demo(ctx, workdir: Path) -> None:
    """Import the shipped sample photos, mask them, sync a burst and export it.

    Photos are copied into WORKDIR (default: a "demo" folder in the user data folder,
    never the current directory) with the mask overlays and the exports; the catalog
    is the one --catalog / MASKROOM_CATALOG names (default: the user's catalog file).
    Running it again adds nothing twice.
    """
    workdir = workdir or default_workdir()
    catalog = ctx.catalog
    click.echo(f"catalog: {catalog.location.url}")
    report = run_demo(catalog, workdir, say=click.echo)
    click.echo(f"done: {len(report.imported)} photos, {len(report.overlays)} mask overlays in {workdir / 'overlays'}, "
               f"{len(report.exported)} exports in {workdir / 'export'}")
