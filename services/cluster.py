"""Running batch work on a Dask cluster (``--cluster``/``--map`` on import, sync, export,
mask refresh and thumbs; ``maskroom cluster local``).  See docs/cluster.md."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from maskroom.catalog import Catalog
from maskroom.engine.executor.base import ENV_CLUSTER, refuse_sqlite
from maskroom.engine.executor.paths import PathMap, save_path_map

__all__ = ["ENV_CLUSTER", "cluster_address", "local_cluster"]


def cluster_address(catalog: Catalog, cluster: str | None, path_maps: Sequence[str] = ()) -> str | None:
    """The scheduler address a batch runs on (None: local processes).  Checks the options
    at the door — an SQLite catalog cannot be shared with workers — and stores the
    ``CATALOG_PATH=WORKER_PATH`` maps with the catalog."""
    paths = PathMap.parse(path_maps)
    if cluster:
        refuse_sqlite(catalog.location)
    if paths:
        with catalog.session() as s:
            save_path_map(s, paths)
    return cluster or None


@contextmanager
def local_cluster(workers: int, host: str = "127.0.0.1", port: int = 8786) -> Iterator[str]:
    """A scheduler and WORKERS one-thread worker processes on this machine; yields its address."""
    from distributed import LocalCluster  # lazy: dask only for cluster commands (CLI start-up time)

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=host, scheduler_port=port,
                      dashboard_address=None) as lc:
        yield lc.scheduler_address
