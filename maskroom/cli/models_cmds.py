"""`maskroom models list | verify | install`."""
from __future__ import annotations

from pathlib import Path

import click

from maskroom.cli.base import echo_json, main
from maskroom.services import models as model_service


@main.group()
def models() -> None:
    """The ONNX models behind AI masks, and optional model packs."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(as_json: bool) -> None:
    """Shipped models and installable packs."""
    rows = model_service.list_models()
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']:<32} {r['version'] or '':<28} {r['where']}")


@models.command()
def verify() -> None:
    """Check every model file against its sha256; exit 1 on any problem."""
    bad = 0
    for name, problem in model_service.verify_all():
        if problem is None:
            click.echo(f"ok      {name}")
        else:
            bad += 1
            click.echo(f"FAILED  {problem}", err=True)
    if bad:
        raise SystemExit(1)


@models.command()
@click.argument("pack")
@click.option("--from", "sources", multiple=True, required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The downloaded model file (twice for encoder + decoder packs).")
def install(pack: str, sources: tuple[Path, ...]) -> None:
    """Install a model pack from files you downloaded (nothing is fetched)."""
    names = model_service.install_pack(pack, list(sources))
    click.echo(f"installed {', '.join(names)} into {model_service.user_dir()}")
