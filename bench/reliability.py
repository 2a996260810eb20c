"""kill -9 at random moments of import, edit, sync and catalog creation; print what survived.

    python bench/reliability.py [--trials 20] [--areas import,edit,sync,create] [--seed 0]

Each trial kills a `maskroom` child process (SIGKILL, whole process group) at a random
moment within the area's measured run time, then checks the catalog opens and passes
its checks, the originals are byte-identical, every step the child reported done is
there and running the commands again finishes the work (tests/reliability/faults.py).
"lost" must be 0.  A second table adds the concurrent-writer trials: N processes
editing one photo at once, every acknowledged step checked.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "reliability"), str(ROOT / "tests")]

from faults import AREAS, Bench, run_child  # noqa: E402

from maskroom.catalog import Catalog, edits  # noqa: E402


def kill_table(root: Path, areas, trials: int, seed: int) -> bool:
    import random

    rng = random.Random(seed)
    bench = Bench(root)
    print(f"{'area':<8} {'trials':>6} {'killed':>6} {'survived':>8} {'lost':>4}  {'window s':>8}  {'wall s':>6}")
    ok = True
    for area in areas:
        t0 = time.monotonic()
        results = [bench.trial(area, rng) for _ in range(trials)]
        lost = [r for r in results if r.lost]
        killed = sum(not r.finished for r in results)
        print(f"{area:<8} {trials:>6} {killed:>6} {trials - len(lost):>8} {len(lost):>4}  "
              f"{bench.windows[area]:>8.2f}  {time.monotonic() - t0:>6.0f}", flush=True)
        for r in lost:
            print(f"    lost after {r.delay:.2f} s: {'; '.join(r.problems)}")
        ok &= not lost
    return ok


def concurrent_table(root: Path, processes: int, rounds: int, repeats: int) -> bool:
    """``processes`` children each run ``rounds`` `maskroom edit` of one photo at once."""
    from develop_support import add_image

    print(f"\n{'writers':<8} {'trials':>6} {'acked':>6} {'in history':>10} {'lost':>4}")
    acked_total = found_total = 0
    for n in range(repeats):
        db = root / f"concurrent-{n}" / "catalog.sqlite"
        with Catalog.create(db) as cat:
            image_id = add_image(cat, next((root / "originals").glob("*.jpg")))
            with cat.session() as s:
                vid = edits.get_version(s, image_id).id
        import concurrent.futures as cf

        keys = ("exposure", "contrast", "highlights", "shadows", "whites", "blacks", "clarity", "saturation")
        cmds = [[["--catalog", str(db), "edit", str(image_id), "--set", f"{keys[p % len(keys)]}={r}"]
                 for r in range(1, rounds + 1)] for p in range(processes)]
        with cf.ThreadPoolExecutor(processes) as pool:
            outs = list(pool.map(lambda c: run_child(c, None)[0], cmds))
        acked = [line for lines in outs for line in lines if ": step " in line]
        with Catalog.open(db, create=False) as cat, cat.read_session() as s:
            steps = {f"step {h.seq} {h.label}" for h in edits.history(s, vid)}
        found = sum(line.split(": ", 1)[1] in steps for line in acked)
        acked_total += len(acked)
        found_total += found
    lost = acked_total - found_total
    print(f"{processes:<8} {repeats:>6} {acked_total:>6} {found_total:>10} {lost:>4}")
    return lost == 0 and acked_total == processes * rounds * repeats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20, help="kills per area")
    ap.add_argument("--areas", default=",".join(AREAS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--writers", type=int, default=6, help="processes in the concurrent-edit trials")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    tmp = tempfile.TemporaryDirectory(prefix="maskroom-reliability-")
    root = Path(tmp.name)
    try:
        ok = kill_table(root, [a for a in args.areas.split(",") if a], args.trials, args.seed)
        ok &= concurrent_table(root, args.writers, rounds=5, repeats=3)
    finally:
        if args.keep:
            print(f"work folder: {root}")
        else:
            tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
