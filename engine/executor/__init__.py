"""One executor for per-image batch work (see engine/executor/base.py)."""
from __future__ import annotations

from maskroom.engine.executor.base import (
    ENV_CLUSTER, ClusterError, Executor, Outcome, SerialExecutor, Work, WorkerContext, WorkerLost, refuse_sqlite,
)
from maskroom.engine.executor.local import LocalExecutor


def make_executor(catalog=None, jobs: int = 1, cluster: str | None = None) -> Executor:
    """The executor a batch command runs on: a Dask cluster when an address is given,
    a local process pool for ``jobs > 1``, else this process."""
    if cluster:
        from maskroom.engine.executor.dask import DaskExecutor  # dask is imported only for --cluster

        return DaskExecutor(cluster, catalog)
    if jobs > 1:
        return LocalExecutor(jobs)
    return SerialExecutor(catalog)


__all__ = ["ENV_CLUSTER", "ClusterError", "refuse_sqlite", "Executor", "LocalExecutor", "Outcome", "SerialExecutor", "Work", "WorkerContext", "WorkerLost", "make_executor"]
