"""Sync throughput: a synthetic N-frame series (default 100) with 3 AI masks.

Frames are one sample landscape moved like a handheld camera (shift, small
rotation, +-0.7 EV).  Frame 0 gets Sky, Subject and Object (box) layers; the job
syncs it to the other frames.  Peer run, same script: deriving the same three
masks on every frame on its own (what a "refresh" costs without sync), so the
ratio shows what sync adds (alignment, scoring, recipe writes) on top of the
models.  Target: <= 0.5 s per frame on 2 cores (--jobs 2).

Usage: python bench/sync_bench.py [--frames 100] [--jobs 2] [--kinds sky,subject,object]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "maskroom" / "data" / "samples" / "immich_tanners_ridge.jpg"


def synth(folder: Path, n: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    base = cv2.imread(str(SAMPLE), cv2.IMREAD_COLOR)
    h, w = base.shape[:2]
    folder.mkdir(parents=True)
    for i in range(n):
        A = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-2, 2)), float(rng.uniform(0.98, 1.03)))
        A[:, 2] += rng.uniform(-25, 25, 2)
        f = cv2.warpAffine(base, A, (w, h), borderMode=cv2.BORDER_REFLECT)
        ev = float(rng.uniform(-0.7, 0.7)) if i else 0.0
        f = (np.clip(((f / 255.0) ** 2.2) * 2 ** ev, 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"f{i:04d}.jpg"), f, [cv2.IMWRITE_JPEG_QUALITY, 92])


def components(kinds):
    from maskroom.core.recipe import MaskComponent

    made = {"sky": lambda: MaskComponent("sky"), "subject": lambda: MaskComponent("subject"),
            "object": lambda: MaskComponent("object", params={"box": [0.35, 0.45, 0.75, 0.95]})}
    return [(k, made[k]()) for k in kinds]


def peer_worker(args):
    location, image_id, kinds = args
    from maskroom.catalog import Catalog
    from maskroom.engine.mask_refresh import mask_input
    from maskroom.engine.masks.compose import derive

    cv2.setNumThreads(1)
    cat = Catalog.open(location, upgrade=False)
    t0 = time.process_time()
    inp = mask_input(cat, image_id)
    each = {}
    for k, comp in components(kinds):
        t = time.process_time()
        derive(inp, comp)
        each[k] = time.process_time() - t
    cat.close()
    return time.process_time() - t0, each


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--kinds", default="sky,subject,object")
    ap.add_argument("--peer-frames", type=int, default=None,
                    help="Derive the peer on only this many frames (its per-frame cost does not depend on N).")
    args = ap.parse_args()
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    from sqlalchemy import select

    from maskroom.catalog import Catalog, edits
    from maskroom.catalog.schema import Image
    from maskroom.engine.importer import run_import
    from maskroom.core.recipe import Layer, MaskDefinition, Recipe
    from maskroom.engine.sync.engine import run_sync

    work = Path(tempfile.mkdtemp(prefix="sync_bench_"))
    try:
        synth(work / "frames", args.frames)
        cat = Catalog.open(work / "catalog.sqlite")
        run_import(cat, [work / "frames"], jobs=args.jobs)
        with cat.session() as s:
            ids = list(s.scalars(select(Image.id).order_by(Image.filename)))
            vid = edits.get_version(s, ids[0]).id
            layers = [Layer("Global")] + [Layer(k.title(), adjustments={"exposure": 0.2},
                                                mask=MaskDefinition([c])) for k, c in components(kinds)]
            edits.save_recipe(s, vid, Recipe(layers=layers), "bench edit")
        targets = ids[1:]
        # Peer: the same masks derived on each frame on its own, same process count.
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        def cpu() -> float:
            a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

        c0, t0 = cpu(), time.perf_counter()
        with ProcessPoolExecutor(args.jobs, mp_context=mp.get_context("spawn")) as pool:
            peer_ids = targets[: args.peer_frames] if args.peer_frames else targets
            per = list(pool.map(peer_worker, [(cat.location, i, kinds) for i in peer_ids]))
        # Per frame (peer may run on fewer frames): scaled to the target count.
        t_peer, c_peer = [(time.perf_counter() - t0) * len(targets) / len(peer_ids),
                          (cpu() - c0) * len(targets) / len(peer_ids)]
        c0, t0 = cpu(), time.perf_counter()
        rep = run_sync(cat, ids[0], targets, jobs=args.jobs)
        # Sync workers are forkserver children (not ours to rusage): count their per-target CPU.
        t_sync, c_sync = time.perf_counter() - t0, cpu() - c0 + sum(t.cpu_s for t in rep.targets)
        failed = [t for t in rep.targets if t.status == "failed"]
        c0, t0 = cpu(), time.perf_counter()
        rep2 = run_sync(cat, ids[0], targets, jobs=args.jobs)
        t_again, c_again = time.perf_counter() - t0, cpu() - c0 + sum(t.cpu_s for t in rep2.targets)
        n = len(targets)
        print(f"sync bench: {n} target frames ({cv2.imread(str(SAMPLE)).shape[1]} px wide), peer on {len(per)}, "
              f"masks: {', '.join(kinds)}, jobs={args.jobs}, cpus={os.cpu_count()}")
        # Wall time depends on what else runs on the machine; CPU time / jobs is what the
        # job would take on `jobs` otherwise idle cores.
        print(f"{'run':<34} {'wall s':>7} {'wall/fr':>8} {'cpu/fr':>7} {f'cpu/fr/{args.jobs}':>9} {'ratio':>6}")
        for label, t, c in (("peer: derive masks per frame", t_peer, c_peer),
                            ("sync (align+derive+score+write)", t_sync, c_sync),
                            ("sync again (cached, unchanged)", t_again, c_again)):
            print(f"{label:<34} {t:>7.1f} {t / n:>8.3f} {c / n:>7.3f} {c / n / args.jobs:>9.3f} {c / c_peer:>6.2f}")
        print("median CPU per frame by kind: " + ", ".join(
            f"{k} {statistics.median(e[k] for _, e in per):.3f} s" for k in kinds))
        print(f"median peer frame CPU: {statistics.median(t for t, _ in per):.3f} s; target 0.5 s/frame on {args.jobs} cores: "
              f"{'met' if c_sync / n / args.jobs <= 0.5 else 'NOT met'} (by CPU time), "
              f"{'met' if t_sync / n <= 0.5 else 'NOT met'} (by wall time on this machine)")
        print(f"statuses: {rep.to_dict()['synced']} synced, {len(failed)} failed, {rep.flagged} flagged; "
              f"second run: {rep2.to_dict()['unchanged']} unchanged")
        if failed:
            print(f"first failure: image {failed[0].image_id}: {failed[0].error}", file=sys.stderr)
        cat.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
