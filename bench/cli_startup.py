"""CLI start-up: catalog-only commands on a small catalog, start to finish.

    python bench/cli_startup.py [--runs 15] [--images 200]

Runs `maskroom ls|show|rate|flag|tag` as fresh processes (what a shell user
waits for) on an SQLite catalog of a few hundred rows, --runs times each after
one warm-up, like hyperfine; prints the wall median and min and the CPU time
(user + system) median, which is what a quiet machine's wall time is.  Peer in the same
run: `python -c pass` (the interpreter alone) and `python -c "import sqlalchemy.orm"`.
Target (issue 17): <= 0.3 s per command.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def timed(cmd: list[str], runs: int, env: dict, cwd: str) -> tuple[float, float, float]:
    """(median wall, min wall, median CPU) seconds of the command as a fresh process.

    CPU (user + system of the child) is what the wall time is on a quiet machine for
    a single-threaded start-up; on a busy one the wall time also counts waiting.
    """
    subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=True)  # warm-up: page cache, .pyc
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=True)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), min(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--images", type=int, default=200)
    args = ap.parse_args()
    from catalog_scale import populate

    from maskroom.catalog import Catalog

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "small.sqlite"
        with Catalog.open(path) as cat:
            populate(cat, args.images)
        env = {**os.environ, "MASKROOM_CATALOG": str(path)}
        mr = [sys.executable, "-m", "maskroom"]
        rows = [
            ("python -c pass (peer)", [sys.executable, "-c", "pass"]),
            ("python -c 'import sqlalchemy.orm' (peer)", [sys.executable, "-c", "import sqlalchemy.orm"]),
            ("maskroom ls", mr + ["ls"]),
            ("maskroom show 5", mr + ["show", "5"]),
            ("maskroom rate 4 5", mr + ["rate", "4", "5"]),
            ("maskroom flag pick 5", mr + ["flag", "pick", "5"]),
            ("maskroom tag add Travel 5", mr + ["tag", "add", "Travel", "5"]),
        ]
        print(f"{args.images} images, SQLite, {args.runs} runs each; {os.cpu_count()} cores\n")
        print("| command | wall median (s) | wall min (s) | CPU median (s) | target (CPU) |")
        print("|---|---:|---:|---:|---|")
        for name, cmd in rows:
            # cwd outside the repository: `-m maskroom` there would import ./maskroom, whatever is installed
            med, low, cpu = timed(cmd, args.runs, env, tmp)
            target = "" if "peer" in name else ("ok" if cpu <= 0.3 else "over 0.3 s")
            print(f"| {name} | {med:.3f} | {low:.3f} | {cpu:.3f} | {target} |")


if __name__ == "__main__":
    main()
