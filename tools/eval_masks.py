"""Measure a mask kind on image/mask pairs: mean IoU, false positives, worst five, timing.

    python -m tools.eval_masks --kind sky --images DIR/images --masks DIR/masks [--json] [--panels out/]
    python -m tools.eval_masks --kind object --box-margin 0.05 --images DIR/images --masks DIR/masks

A developer's tool (not installed with maskroom): scripts/eval_pairs.py runs it over the
dev pair sets.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from maskroom.core.progress import RichProgress
from maskroom.engine.masks.overlay import load_rgb
from maskroom.engine.masks.registry import available_kinds
from tools.evaluate import evaluate_kind, write_panel


def fail(message: str) -> None:
    raise click.ClickException(message)


def warn(message: str) -> None:
    click.echo(message, err=True)


def echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.command("eval-masks")
@click.option("--kind", required=True, help="Mask kind to measure (sky, subject, person...).")
@click.option("--images", "images_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--masks", "masks_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--params", "params_json", help="Kind parameters as a JSON object.")
@click.option("--limit", type=int, help="Only the first N pairs.")
@click.option("--panels", "panels_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write overlay panels (photo | mask | truth) of the five worst pairs here.")
@click.option("--box-margin", type=float,
              help="Prompt each pair with a box round its truth, grown by this share per side (object kind).")
@click.option("--json", "as_json", is_flag=True)
def main(kind, images_dir, masks_dir, params_json, limit, panels_dir, box_margin, as_json):
    """Measure a mask kind on image/mask pairs: mean IoU, false positives, worst five, timing."""
    if kind not in available_kinds():
        fail(f"mask kind {kind!r} is not available (available: {', '.join(available_kinds())})")
    params = json.loads(params_json) if params_json else None
    keep: dict | None = {} if panels_dir else None
    with RichProgress(unit="pairs") as progress:
        report = evaluate_kind(kind, images_dir, masks_dir, params=params, progress=progress, limit=limit, keep=keep,
                               box_margin=box_margin)
    if not report.pairs:
        fail(f"{images_dir}: no image with a matching mask in {masks_dir}")
    summary = report.summary()
    for p in report.pairs:
        if p.error:
            warn(p.error)
    if panels_dir and keep is not None:
        worst = sorted(report.scored, key=lambda p: p.iou)[:5]
        worst += sorted(report.negatives, key=lambda p: -p.false_positive)[:5]
        for p in worst:
            img_path, alpha, truth = keep[p.id]
            label = f"{p.id} IoU {p.iou:.3f}" if p.iou is not None else f"{p.id} false {p.false_positive:.1%}"
            write_panel(panels_dir / f"{p.id}.png", load_rgb(img_path), alpha, truth, label)
    if as_json:
        echo_json(report.to_dict())
        return
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    click.echo(f"kind {kind}: {summary['pairs']} pairs, {summary['errors']} errors")
    click.echo(f"mean IoU   {fmt(summary['mean_iou'], '.4f')}  (median {fmt(summary['median_iou'], '.4f')})")
    click.echo(f"negatives  {summary['negatives']}: mean false area {fmt(summary['false_positive_rate'], '.2%')}, "
               f"{summary['negatives_over_1pct']} over 1%")
    click.echo(f"time       {fmt(summary['median_seconds'], '.3f')} s median per image")
    click.echo("worst      " + ", ".join(f"{w['id']} {w['iou']:.3f}" for w in summary["worst"]))
    for p in report.pairs:
        if p.iou is not None:
            click.echo(f"  {p.id:<40} IoU {p.iou:.4f}  {p.seconds:.3f}s")
        elif p.false_positive is not None:
            click.echo(f"  {p.id:<40} (no truth) false {p.false_positive:.2%}  {p.seconds:.3f}s")


if __name__ == "__main__":
    main()
