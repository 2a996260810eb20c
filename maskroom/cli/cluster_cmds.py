"""`maskroom cluster`: a local Dask cluster to try cluster runs; the --cluster/--map options of batch commands."""
from __future__ import annotations

import time

import click

from maskroom.cli.base import failing_on, main
from maskroom.core.errors import MaskroomError
from maskroom.engine.executor.base import ENV_CLUSTER, refuse_sqlite
from maskroom.engine.executor.paths import PathMap, save_path_map


def cluster_options(f):
    """--cluster ADDRESS (or MASKROOM_CLUSTER) and --map CATALOG_PATH=WORKER_PATH for a batch command."""
    f = click.option("--map", "path_maps", multiple=True, metavar="CATALOG_PATH=WORKER_PATH",
                     help="Where cluster workers see a folder (repeatable; stored with the catalog).")(f)
    return click.option("--cluster", envvar=ENV_CLUSTER, metavar="ADDRESS",
                        help="Run on the Dask scheduler at ADDRESS (tcp://host:8786) instead of local processes; "
                             "needs a PostgreSQL catalog.")(f)


def cluster_for(catalog, cluster: str | None, path_maps) -> str | None:
    """The scheduler address to run on, or None; checks the options at the door and stores --map."""
    with failing_on(MaskroomError):
        paths = PathMap.parse(path_maps)
        if cluster:
            refuse_sqlite(catalog.location)
    if paths:
        with catalog.session() as s:
            save_path_map(s, paths)
    return cluster or None


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
    from distributed import LocalCluster  # dask only for cluster commands (CLI start-up time)

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=host, scheduler_port=port,
                      dashboard_address=None) as lc:
        click.echo(f"scheduler {lc.scheduler_address} with {workers} workers (Ctrl-C stops them)")
        click.echo(f"  maskroom --catalog postgresql+psycopg://... sync ID --series --cluster {lc.scheduler_address}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("stopping the cluster")
