"""Catalog scale: 100,000 (or 1,000,000) image rows; time open, a combined filter and a rating change.

    python bench/catalog_scale.py [--images 100000] [--catalog URL] [--reuse]

Targets (issues 2, 17): open <= 1 s, the combined filter's first page (what `ls`
and the grid show first: 100 ids by capture time) <= 50 ms, rate <= 10 ms.  Medians
of repeated runs.  Peers: all matching ids of the same filter, and the same
predicate written so no index can serve it (``rating + 0``, ``lower(...) LIKE``:
the database reads every row).  ``--reuse`` times an already populated catalog
(``--catalog``) instead of building one: build once per size, then iterate.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from maskroom.catalog import Catalog, library
from maskroom.catalog.queries import build_id_query, build_query
from maskroom.catalog.schema import Folder, Image, ImageKeyword, Keyword


def populate(cat: Catalog, rows: int) -> None:
    rng = random.Random(1)
    cameras = [("Canon", "EOS R5"), ("Nikon", "Z 8"), ("Sony", "ILCE-7RM5"), ("Fujifilm", "X-T5")]
    lenses = ["RF 24-70mm F2.8", "Z 50mm f/1.8", "FE 85mm F1.4 GM", "XF 56mm F1.2"]
    start = datetime(2020, 1, 1)
    with cat.session() as s:
        folders = [Folder(path=f"/photos/shoot{i:04d}") for i in range(rows // 500 + 1)]
        s.add_all(folders)
        s.flush()
        kws = [Keyword(name=n) for n in ("Travel", "Family", "Wedding", "Birds", "Street")]
        s.add_all(kws)
        s.flush()
        batch = []
        for i in range(rows):
            make, model = cameras[i % 4]
            batch.append(dict(
                folder_id=folders[i // 500].id, filename=f"IMG_{i:06d}.CR3", path=f"/photos/shoot{i // 500:04d}/IMG_{i:06d}.CR3",
                file_size=25_000_000, mtime=0.0, content_hash=f"{i:032x}", format="raw-cr3", width=8192, height=5464,
                orientation=1, capture_time=start + timedelta(seconds=i * 97), camera_make=make, camera_model=model,
                lens=lenses[i % 4], iso=rng.choice([100, 200, 400, 800, 1600, 3200]), rating=rng.choice([0, 0, 0, 1, 2, 3, 4, 5]),
                flag=rng.choice([0, 0, 1, -1]), exif={}, extra={}, missing=False,
                imported_at=start, aperture=2.8, shutter=0.004, focal_length=50.0,
            ))
            if len(batch) == 10_000:
                s.execute(insert(Image), batch)
                batch.clear()
        if batch:
            s.execute(insert(Image), batch)
        ids = s.scalars(select(Image.id)).all()
        s.execute(insert(ImageKeyword), [{"image_id": i, "keyword_id": kws[i % 5].id} for i in ids if i % 3 == 0])
    if cat.location.is_sqlite:
        with cat.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with cat.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


FILTER = {"rating": ">=3", "camera": "EOS R5", "date": "2020-02-01..2020-03-31", "keyword": "Travel"}


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", "--rows", dest="rows", type=int, default=100_000)
    ap.add_argument("--reuse", action="store_true", help="--catalog is populated already: time it as it is")
    ap.add_argument("--catalog", help="SQLAlchemy URL or file (default: a temporary SQLite file)")
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    target = args.catalog or str(Path(tmp.name) / "scale.sqlite")
    t = time.perf_counter()
    with Catalog.open(target) as cat:
        if args.reuse:
            with cat.session() as s:
                args.rows = s.scalar(select(func.count(Image.id)))
        else:
            populate(cat, args.rows)
    build = time.perf_counter() - t

    def do_open():
        c = Catalog.open(target)
        with c.session() as s:
            s.scalar(select(func.count(Image.id)))
        c.close()

    cat = Catalog.open(target)
    matched = []

    page = []

    def do_page():
        with cat.session() as s:
            page[:] = s.scalars(build_query(FILTER, "capture").with_only_columns(Image.id).limit(100)).all()

    def do_filter():
        with cat.session() as s:
            matched[:] = s.scalars(build_id_query(FILTER)).all()

    def do_scan():  # peer: the same predicate on an expression no index can serve
        with cat.session() as s:
            s.execute(text("SELECT id FROM images WHERE rating + 0 >= 3 AND lower(camera_model) LIKE '%eos r5%' "
                           "AND capture_time >= '2020-02-01' AND capture_time < '2020-04-01'")).all()

    ids = [random.Random(2).randrange(1, args.rows) for _ in range(args.repeat)]
    it = iter(ids)

    def do_rate():
        with cat.session() as s:
            library.set_rating(s, [next(it)], 4)

    rows = [
        ("open catalog (incl. schema check + count)", timed(do_open, args.repeat), 1.0),
        ("combined filter, first page (100 by capture time)", timed(do_page, args.repeat), 0.050),
        ("combined filter, all matching ids", timed(do_filter, args.repeat), None),
        ("same predicate, full scan (peer)", timed(do_scan, args.repeat), None),
        ("rate one image (one transaction)", timed(do_rate, args.repeat), 0.010),
    ]
    cat.close()
    print(f"catalog: {cat.location.url.split('://')[0]}, {args.rows:,} images "
          f"({'reused' if args.reuse else f'built in {build:.1f} s'}); filter matched {len(matched)}, "
          f"first page {len(page)}")
    print(f"{'operation':<50} {'median':>10} {'target':>10}  ok")
    for name, value, target_s in rows:
        tgt = f"{target_s * 1000:.0f} ms" if target_s else "-"
        ok = "" if target_s is None else ("yes" if value <= target_s else "NO")
        print(f"{name:<50} {value * 1000:>8.1f} ms {tgt:>10}  {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
