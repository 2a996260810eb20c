"""`maskroom ui`: the desktop app (also what `maskroom` alone opens)."""
from __future__ import annotations

import click

from maskroom.cli.base import fail, main, pass_ctx


@main.command()
@click.option("--catalog", "catalog_value", metavar="PATH|URL",
              help="Catalog to open (default: the root --catalog, else the last one the app used).")
@pass_ctx
def ui(ctx, catalog_value):
    """Open the desktop app."""
    try:
        from maskroom.ui.app import last_catalog, run  # lazy: Qt only for the app (CLI start-up time)
    except ImportError as exc:  # Qt's system libraries missing: say which
        fail(f"cannot start the desktop app: {exc} (on Linux: apt-get install libegl1 libgl1 libxkbcommon0 "
             "libfontconfig1 libdbus-1-3 libxcb-cursor0)")
    from maskroom.ui import qt_problem  # lazy: as above

    if (problem := qt_problem()) is not None:
        fail(f"cannot start the desktop app: {problem}")
    # Open the catalog before any window: a bad catalog is one line here, not a dialog.
    ctx.catalog_value = catalog_value or ctx.catalog_value or last_catalog()
    raise SystemExit(run(ctx.catalog))
