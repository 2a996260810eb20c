"""Cluster overhead: the same batch with --jobs 2 and on a 2-worker Dask LocalCluster.

The batch: a synthetic N-frame series (default 100, one sample landscape moved like
a handheld camera, as bench/sync_bench.py), frame 0 edited with Sky and Subject
layers, synced to the other frames, then all frames exported (JPEG, 1024 px).
Both runs use the same PostgreSQL catalog, rebuilt before each run, and the same
per-image functions (engine/executor); runs alternate (--repeats) so a busy
machine slows both alike.  The cluster is started before the clock (a deployed
cluster is running already), its start is reported apart.  Target:
cluster / local <= 1.15.

Then a model of N-worker throughput from what was measured: the per-image time of
the cluster run's workers and the scheduler's cost per task (a batch of empty tasks).

Usage: python bench/cluster.py --db postgresql+psycopg://user@host/db [--frames 100] [--workers 2]
(the database is emptied: give it a throw-away one).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import create_engine, select, text  # noqa: E402

from sync_bench import components, synth  # noqa: E402


def fresh_catalog(url: str, cache: Path):
    from maskroom.catalog import Catalog
    from maskroom.core.config import CatalogLocation

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    shutil.rmtree(cache, ignore_errors=True)
    return Catalog.open(CatalogLocation(url=url, cache_dir=cache, sqlite_path=None))


def prepare(url: str, work: Path, frames: Path, kinds):
    from maskroom.catalog import edits
    from maskroom.catalog.schema import Image
    from maskroom.core.recipe import Layer, MaskDefinition, Recipe
    from maskroom.engine.importer import run_import

    cat = fresh_catalog(url, work / "cache")
    run_import(cat, [frames], jobs=2)
    with cat.session() as s:
        ids = list(s.scalars(select(Image.id).order_by(Image.filename)))
        vid = edits.get_version(s, ids[0]).id
        layers = [Layer("Global", adjustments={"exposure": 0.2})]
        for kind, comp in components(kinds):
            layers.append(Layer(kind, adjustments={"exposure": -0.3}, mask=MaskDefinition([comp])))
        edits.save_recipe(s, vid, Recipe(layers=layers), "bench edit")
    return cat, ids


def batch(cat, ids, out: Path, **where) -> dict:
    from maskroom.engine.export.job import ExportSettings, master_version_ids, run_export
    from maskroom.engine.sync.engine import run_sync

    t0 = time.perf_counter()
    rep = run_sync(cat, ids[0], ids[1:], **where)
    t1 = time.perf_counter()
    with cat.session() as s:
        vids = master_version_ids(s, ids)
    exp = run_export(cat, vids, out, ExportSettings(long_edge=1024), **where)
    t2 = time.perf_counter()
    failed = rep.count("failed") + len(exp.failed)
    return {"sync": t1 - t0, "export": t2 - t1, "total": t2 - t0, "failed": failed,
            "cpu_per_target": statistics.median(t.cpu_s for t in rep.targets)}


def _noop(ctx, item):
    return item


def task_overhead(address: str, n: int = 400) -> float:
    """Seconds of scheduler + transfer cost per task: empty tasks, one item each."""
    from maskroom.engine.executor.dask import DaskExecutor
    from maskroom.engine.executor.base import Work

    with DaskExecutor(address) as ex:
        ex.jobs = n  # one item per chunk: every item its own task
        t0 = time.perf_counter()
        assert len(list(ex.map(Work(_noop), range(n)))) == n
        return (time.perf_counter() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=os.environ.get("MASKROOM_BENCH_DB"), help="PostgreSQL URL (emptied)")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kinds", default="sky,subject")
    ap.add_argument("--repeats", type=int, default=1, help="alternating local/cluster runs (medians)")
    args = ap.parse_args()
    if not args.db:  # bench/run.py runs every bench: this one says what it needs and steps aside
        print("bench/cluster.py: skipped: give --db postgresql+psycopg://... (a throw-away database) "
              "or MASKROOM_BENCH_DB")
        return
    from distributed import LocalCluster

    kinds = [k for k in args.kinds.split(",") if k]
    local, remote = [], []
    with tempfile.TemporaryDirectory(prefix="cluster-bench-") as tmp:
        work = Path(tmp)
        synth(work / "frames", args.frames)
        t0 = time.perf_counter()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=":0") as lc:
            started = time.perf_counter() - t0
            # Alternating runs, each on a freshly built catalog: a busy machine slows both alike.
            for r in range(args.repeats):
                cat, ids = prepare(args.db, work, work / "frames", kinds)
                local.append(batch(cat, ids, work / f"out-local-{r}", jobs=args.workers))
                cat.close()
                cat, ids = prepare(args.db, work, work / "frames", kinds)
                remote.append(batch(cat, ids, work / f"out-cluster-{r}", cluster=lc.scheduler_address))
                cat.close()
            overhead = task_overhead(lc.scheduler_address)
    local = {k: statistics.median(run[k] for run in local) for k in local[0]}
    remote = {k: statistics.median(run[k] for run in remote) for k in remote[0]}

    n = args.frames
    print(f"\n{n} frames, masks {'+'.join(kinds)}, sync then export (1024 px), PostgreSQL, "
          f"{os.cpu_count()} cores, median of {args.repeats} alternating run(s)\n")
    print(f"| step | --jobs {args.workers} (s) | LocalCluster {args.workers} workers (s) | ratio |")
    print("|---|---:|---:|---:|")
    for k in ("sync", "export", "total"):
        print(f"| {k} | {local[k]:.1f} | {remote[k]:.1f} | {remote[k] / local[k]:.2f} |")
    print(f"\nfailed: local {local['failed']}, cluster {remote['failed']}; cluster start (not in the totals) "
          f"{started:.1f} s; scheduler cost per task {overhead * 1000:.1f} ms")
    # Model: per-image work W = the cluster run's total x workers / frames (wall seconds of one
    # worker per image), spread over N workers; each chunk adds the task cost once.
    per_image = remote["total"] * args.workers / n
    from maskroom.engine.executor.dask import CHUNKS_PER_WORKER, MAX_CHUNK

    chunk = MAX_CHUNK
    print(f"\nmodel: T(N) = frames x {per_image:.2f} s / N + tasks x {overhead * 1000:.1f} ms "
          f"(<= {chunk} per chunk; the catalog's writes are ~1 short transaction per image)\n")
    print("| workers | 10,000 frames (h) | 50,000 frames (h) | frames/hour |")
    print("|---:|---:|---:|---:|")
    for w in (2, 4, 8, 16, 32, 64):
        def hours(f):
            tasks = max(w * CHUNKS_PER_WORKER, -(-f // chunk))
            return (f * per_image / w + tasks * overhead) / 3600
        print(f"| {w} | {hours(10_000):.2f} | {hours(50_000):.2f} | {50_000 / hours(50_000):,.0f} |")


if __name__ == "__main__":
    main()
