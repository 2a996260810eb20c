"""The root command group and what every command shares: the catalog, errors, output."""
from __future__ import annotations

import contextlib
import importlib
import json
import logging
import sys
from collections.abc import Iterable
from typing import Any

import click

from maskroom import __version__
from maskroom.core.errors import MaskroomError
from maskroom.core.paths import one_line
from maskroom.core.values import MAX_ID
from maskroom.services.catalog_admin import Catalog, CatalogError, open_catalog

# Ids (images, versions, series, sessions) as the catalog stores them: a number past
# its INTEGER columns is refused here, in one line, not by the database driver.
ID = click.IntRange(1, MAX_ID)


class Context:
    def __init__(self, catalog_value: str | None):
        self.catalog_value = catalog_value
        self._catalog: Catalog | None = None

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            try:
                self._catalog = open_catalog(self.catalog_value)
            except CatalogError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._catalog

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()


class Group(click.Group):
    """The root group: an expected failure (``MaskroomError`` and the ValueErrors the
    services raise with a message naming what is wrong) ends as one line on stderr, exit 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MaskroomError as exc:
            raise click.ClickException(one_line(str(exc))) from None


class LazyGroup(Group):
    """The root group, lazily: a command's module is imported when that command runs.

    `maskroom ls` then does not import the export engine, numpy or OpenCV (start-up
    time: issue 17).  ``maskroom.cli`` fills ``modules`` (command name -> module, read
    from the modules' ``@main.command("name")`` lines) and ``all_modules``; a name it
    does not know loads every module, so a command is never missed.
    """

    modules: dict[str, str] = {}
    all_modules: list[str] = []

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.modules:
            importlib.import_module(self.modules[name])
        if name not in self.commands:
            self.load_all()
        return super().get_command(ctx, name)

    def list_commands(self, ctx):
        self.load_all()
        return super().list_commands(ctx)

    def load_all(self) -> None:
        for module in self.all_modules:
            importlib.import_module(module)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--catalog",
    envvar="MASKROOM_CATALOG",
    metavar="PATH|URL",
    help="Catalog file or SQLAlchemy URL (default: catalog.maskroom.sqlite in the user data folder).",
)
@click.version_option(__version__, prog_name="maskroom")
@click.pass_context
def main(ctx: click.Context, catalog: str | None) -> None:
    """maskroom: a photo catalog whose AI masks follow a series."""
    _show_service_warnings()
    obj = Context(catalog)
    ctx.obj = obj
    ctx.call_on_close(obj.close)
    if ctx.invoked_subcommand is None:
        # No command: open the desktop app, as a photographer expects.
        ui = main.get_command(ctx, "ui")
        if ui is None:
            click.echo(ctx.get_help())
            return
        ctx.invoke(ui)


class _WarningLines(logging.Handler):
    """Warnings the services log (a sidecar not written, a doubtful mask) as one line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(record.getMessage(), err=True)


def _show_service_warnings() -> None:
    log = logging.getLogger("maskroom")
    if not any(isinstance(h, _WarningLines) for h in log.handlers):
        log.addHandler(_WarningLines(logging.WARNING))
        log.setLevel(logging.WARNING)
        log.propagate = False


pass_ctx = click.make_pass_decorator(Context)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def echo_json_list(items: Iterable[Any]) -> None:
    """A JSON array written item by item as ``items`` yields them (the same text as
    ``echo_json(list(items))``): a million rows start at once and never sit in memory."""
    first = True
    for item in items:
        text = json.dumps(item, indent=2, default=str, ensure_ascii=False).replace("\n", "\n  ")
        click.echo(("[\n  " if first else ",\n  ") + text, nl=False)
        first = False
    click.echo("[]" if first else "\n]")


def fail(message: str) -> None:
    """Stop with one clear line on stderr and exit status 1 (a file name's newline or
    escape sequence is shown escaped, ``core.paths.one_line``)."""
    raise click.ClickException(one_line(message))


@contextlib.contextmanager
def failing_on(*errors: type[Exception]):
    """Inside, the given exceptions become one clear line (``fail``): for service
    errors whose message already names what is wrong."""
    try:
        yield
    except errors as exc:
        fail(str(exc))


def warn(message: str) -> None:
    click.echo(one_line(message), err=True)


def is_tty() -> bool:
    return sys.stderr.isatty()
