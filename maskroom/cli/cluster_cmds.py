"""`maskroom cluster`: a local Dask cluster to try cluster runs; the --cluster/--map options of batch commands."""
from __future__ import annotations

import time

import click

from maskroom.cli.base import main
from maskroom.services.cluster import ENV_CLUSTER, cluster_address, local_cluster


def cluster_options(f):
    """--cluster ADDRESS (or MASKROOM_CLUSTER) and --map CATALOG_PATH=WORKER_PATH for a batch command."""
    f = click.option("--map", "path_maps", multiple=True, metavar="CATALOG_PATH=WORKER_PATH",
                     help="Where cluster workers see a folder (repeatable; stored with the catalog).")(f)
    return click.option("--cluster", envvar=ENV_CLUSTER, metavar="ADDRESS",
                        help="Run on the Dask scheduler at ADDRESS (tcp://host:8786) instead of local processes; "
                             "needs a PostgreSQL catalog.")(f)


def cluster_for(catalog, cluster: str | None, path_maps) -> str | None:
    """The scheduler address to run on, or None; checks the options at the door and stores --map."""
    return cluster_address(catalog, cluster, path_maps)


@main.group("cluster")
def cluster_group() -> None:
    """Dask clusters for batch work (docs/cluster.md)."""


@cluster_group.command("local")
@click.option("--workers", "-n", type=click.IntRange(1, 256), default=2, show_default=True,
              help="Worker processes (one thread each).")
@click.option("--port", type=click.IntRange(0, 65535), default=8786, show_default=True, help="Scheduler port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def cluster_local(workers: int, port: int, host: str) -> None:
    """Start a scheduler and WORKERS worker processes on this machine; Ctrl-C stops them."""
    with local_cluster(workers, host=host, port=port) as address:
        click.echo(f"scheduler {address} with {workers} workers (Ctrl-C stops them)")
        click.echo(f"  maskroom --catalog postgresql+psycopg://... sync ID --series --cluster {address}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("stopping the cluster")
