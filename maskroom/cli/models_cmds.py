"""`maskroom models list | verify | install`."""
from __future__ import annotations

from pathlib import Path

import click

from maskroom.cli.base import echo_json, fail, main
from maskroom.engine.masks import model_store, packs
from maskroom.engine.masks.model_store import ModelError


@main.group()
def models() -> None:
    """The ONNX models behind AI masks, and optional model packs."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(as_json: bool) -> None:
    """Shipped models and installable packs."""
    rows = []
    for name, e in sorted(model_store.manifest().items()):
        rows.append({"name": name, "version": e.get("version"), "file": e.get("file"),
                     "where": "user pack" if e.get("_user") else "shipped", "licence": e.get("licence")
                     or e.get("source", {}).get("licence")})
    for name, spec in packs.catalogue().items():
        if not packs.is_installed(name):
            rows.append({"name": name, "version": spec.get("version"), "file": spec.get("file") or spec.get("files"),
                         "where": "not installed (pack)", "licence": spec.get("licence")})
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']:<32} {r['version'] or '':<28} {r['where']}")


@models.command()
def verify() -> None:
    """Check every model file against its sha256; exit 1 on any problem."""
    bad = 0
    for name in sorted(model_store.manifest()):
        try:
            model_store.verify(name)
            click.echo(f"ok      {name}")
        except ModelError as exc:
            bad += 1
            click.echo(f"FAILED  {exc}", err=True)
    if bad:
        raise SystemExit(1)


@models.command()
@click.argument("pack")
@click.option("--from", "sources", multiple=True, required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The downloaded model file (twice for encoder + decoder packs).")
def install(pack: str, sources: tuple[Path, ...]) -> None:
    """Install a model pack from files you downloaded (nothing is fetched)."""
    try:
        names = packs.install(pack, list(sources))
    except ModelError as exc:
        fail(str(exc))
    click.echo(f"installed {', '.join(names)} into {model_store.user_dir()}")
