"""Batch work on a real Dask cluster (a scheduler and two worker processes on
127.0.0.1) over the test PostgreSQL catalog: the same results as the local run,
and a worker killed mid-batch leaves every image done exactly once.

The cluster tests need PostgreSQL (MASKROOM_TEST_DB, as scripts/test.sh sets it):
cluster workers refuse an SQLite catalog, which the last tests check without one.
"""
from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from conftest import TEST_DB, run_cli
from maskroom.catalog import checks, edits
from maskroom.catalog.schema import Folder, HistoryStep, Image
from maskroom.core.config import resolve_catalog
from maskroom.core.progress import RecordingProgress
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.executor import ClusterError, make_executor
from maskroom.engine.executor.base import open_context
from maskroom.engine.executor.paths import PathMap, load_path_map, save_path_map
from maskroom.engine.export.job import ExportSettings, master_version_ids, run_export
from maskroom.engine.importer import run_import
from maskroom.engine.sync.engine import run_sync
from maskroom.services.demo import camera_move
from sync_frames import SAMPLES, write_jpeg

needs_pg = pytest.mark.skipif(not TEST_DB, reason="cluster workers need a PostgreSQL catalog (MASKROOM_TEST_DB)")
FRAMES = 20


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as lc, Client(lc, set_as_default=False) as client:
        yield lc.scheduler_address, client


@pytest.fixture
def shoot(catalog, tmp_path):
    """A 20-frame handheld series of a landscape with sky, imported; frame 0 edited with a sky mask."""
    bgr = cv2.imread(str(SAMPLES / "immich_tanners_ridge.jpg"), cv2.IMREAD_COLOR)
    rgb = cv2.cvtColor(cv2.resize(bgr, (480, round(480 * bgr.shape[0] / bgr.shape[1])),
                                  interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    rng = np.random.default_rng(7)
    for i in range(FRAMES):
        frame, _ = camera_move(rgb, dx=float(rng.uniform(-12, 12)), dy=float(rng.uniform(-8, 8)),
                               angle=float(rng.uniform(-1.5, 1.5)), ev=float(rng.uniform(-0.3, 0.3)))
        write_jpeg(tmp_path / "shoot" / f"frame_{i:03d}.jpg", frame)
    run_import(catalog, [tmp_path / "shoot"], jobs=1)
    with catalog.session() as s:
        ids = list(s.scalars(select(Image.id).order_by(Image.filename)))
        vid = edits.get_version(s, ids[0]).id
        sky = Layer("Sky", adjustments={"exposure": -0.6, "saturation": 20},
                    mask=MaskDefinition([MaskComponent("sky")]))
        edits.save_recipe(s, vid, Recipe(layers=[Layer("Global", adjustments={"exposure": 0.2}), sky]), "edit")
    return ids


def _sync_steps(catalog, image_id: int) -> int:
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        return s.scalar(select(func.count()).select_from(HistoryStep).where(
            HistoryStep.version_id == vid, HistoryStep.label.like("Sync from%")))


def _pixels(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in sorted(folder.iterdir())}


@needs_pg
@pytest.mark.catalog
def test_sync_and_export_on_the_cluster_match_the_local_run(catalog, shoot, cluster, tmp_path):
    address, _client = cluster
    src, targets = shoot[0], shoot[1:]
    progress = RecordingProgress()
    rep = run_sync(catalog, src, targets, cluster=address, progress=progress)
    assert [t.status for t in rep.targets] == ["synced"] * len(targets), [t.error for t in rep.targets]
    lines = [e[1] for e in progress.events if e[0] == "message"]
    assert len(lines) == 1 and lines[0].startswith("cluster: 2 worker(s); tcp://127.0.0.1:")  # both worked
    # The live line: items running and done on each worker, asked of the scheduler as it goes.
    live = [e[1] for e in progress.events if e[0] == "status"]
    assert live and all(re.fullmatch(r"(tcp://127\.0\.0\.1:\d+ \d+ running, \d+ done(, \d+ failed)?( · )?)*", t)
                        for t in live), live
    assert any(" running" in t and not t.count(" 0 running") == t.count("running") for t in live) \
        or len(live) == 1, live  # something was seen running, unless the batch beat the first ask
    assert sum(int(n) for n in re.findall(r"(\d+) done", lines[0])) == len(targets)
    assert sum(c.rule == "rederive" for t in rep.targets for c in t.components) == len(targets)
    # The local run computes the very same recipes: nothing to save, no new step.
    again = run_sync(catalog, src, targets, jobs=1)
    assert [t.status for t in again.targets] == ["unchanged"] * len(targets)
    assert all(_sync_steps(catalog, t) == 1 for t in targets)

    with catalog.session() as s:
        vids = master_version_ids(s, shoot)
    settings = ExportSettings(long_edge=320)
    on_cluster = run_export(catalog, vids, tmp_path / "cluster", settings, cluster=address)
    local = run_export(catalog, vids, tmp_path / "local", settings, jobs=1)
    assert on_cluster.ok and local.ok and len(on_cluster.exported) == FRAMES
    a, b = _pixels(tmp_path / "cluster"), _pixels(tmp_path / "local")
    assert sorted(a) == sorted(b)
    for name in a:
        assert np.array_equal(a[name], b[name]), name


@needs_pg
@pytest.mark.catalog
def test_a_worker_killed_mid_batch_leaves_every_image_done_once(catalog, shoot, cluster, tmp_path):
    address, client = cluster
    src, targets = shoot[0], shoot[1:]
    pids = list(client.run(os.getpid).values())
    assert len(pids) == 2
    result = {}
    runner = threading.Thread(target=lambda: result.update(rep=run_sync(catalog, src, targets, cluster=address)))
    runner.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sum(_sync_steps(catalog, t) for t in targets) < 2:
        time.sleep(0.05)
    done_before = sum(_sync_steps(catalog, t) for t in targets)
    assert 2 <= done_before < len(targets), "the kill must land mid-batch"
    os.kill(pids[0], signal.SIGKILL)  # its chunk goes to the other worker (or its restarted self)
    runner.join(300)
    assert not runner.is_alive()
    rep = result["rep"]
    assert len(rep.targets) == len(targets)
    assert {t.status for t in rep.targets} <= {"synced", "unchanged"}, [t.error for t in rep.targets]
    assert [_sync_steps(catalog, t) for t in targets] == [1] * len(targets)  # each exactly once
    with catalog.session() as s:
        vids = master_version_ids(s, shoot)
    out = run_export(catalog, vids, tmp_path / "out", ExportSettings(long_edge=200), cluster=address)
    assert out.ok and len(out.exported) == FRAMES
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"frame_{i:03d}.jpg" for i in range(FRAMES)]
    assert checks.run_all(catalog) == []


@pytest.mark.catalog
def test_cluster_workers_see_originals_through_the_stored_path_map(catalog, tmp_path):
    with catalog.session() as s:
        save_path_map(s, PathMap.parse(["/Volumes/Shoots=/mnt/shoots", "/Volumes/Shoots/2024=/srv/2024"]))
    with catalog.session() as s:
        paths = load_path_map(s)
        folder = Folder(path="/Volumes/Shoots")
        s.add(Image(folder=folder, filename="a.jpg", path="/Volumes/Shoots/2024/a.jpg", file_size=1, mtime=0.0,
                    content_hash="h1", format="jpeg", width=1, height=1))
        s.add(Image(folder=folder, filename="b.jpg", path="/Volumes/Shoots/b.jpg", file_size=1, mtime=0.0,
                    content_hash="h2", format="jpeg", width=1, height=1))
    ctx = open_context((catalog.location, None, ()), paths)
    try:
        with ctx.catalog.session() as s:
            seen = sorted(s.scalars(select(Image)), key=lambda i: i.filename)
            assert [i.path for i in seen] == ["/srv/2024/a.jpg", "/mnt/shoots/b.jpg"]  # longest prefix wins
            seen[0].rating = 3  # a write on the worker keeps the catalog's path
    finally:
        ctx.catalog.close()
    with catalog.session() as s:
        assert sorted(s.scalars(select(Image.path))) == ["/Volumes/Shoots/2024/a.jpg", "/Volumes/Shoots/b.jpg"]
    assert paths.shared("/mnt/shoots/x/y.jpg") == "/Volumes/Shoots/x/y.jpg"
    assert paths.local("/Volumes/Shootsy/z.jpg") == "/Volumes/Shootsy/z.jpg"  # a prefix of a name is no match


def test_an_sqlite_catalog_is_refused_with_one_line(tmp_path):
    from maskroom.catalog import Catalog

    cat = Catalog.open(resolve_catalog(tmp_path / "c.sqlite"))
    try:
        with pytest.raises(ClusterError, match="needs a PostgreSQL catalog"):
            make_executor(cat, jobs=2, cluster="tcp://127.0.0.1:1")
        r = run_cli(cat, "sync", "1", "--to", "2", "--cluster", "tcp://127.0.0.1:1", ok=False)
        assert r.exit_code == 1 and "needs a PostgreSQL catalog" in r.output and "Traceback" not in r.output
        r = run_cli(cat, "export", "--all", "--to", str(tmp_path / "o"), "--map", "relative=/x", ok=False)
        assert r.exit_code == 1 and "is not an absolute path" in r.output
    finally:
        cat.close()


@needs_pg
@pytest.mark.catalog
def test_cancel_stops_the_cluster_batch_and_leaves_no_partial_files(catalog, shoot, cluster, tmp_path):
    from maskroom.core.progress import Progress

    address, client = cluster
    done = []
    progress = Progress(on_advance=lambda n, item: done.append(item), cancelled=lambda: len(done) >= 2)
    with catalog.session() as s:
        vids = master_version_ids(s, shoot)
    rep = run_export(catalog, vids, tmp_path / "o", ExportSettings(long_edge=96), cluster=address, progress=progress)
    assert rep.interrupted and 2 <= len(rep.exported) < FRAMES and not rep.failed
    # An image already running on a worker finishes there: a cancelled key is released at
    # once, so the scheduler stops listing it while the worker still writes its file.
    out = tmp_path / "o"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (any(client.processing().values())
                                           or any(p.name.startswith(".") for p in out.iterdir())):
        time.sleep(0.1)
    files = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert all(f.endswith(".jpg") and not f.startswith(".") for f in files), files  # no temp file left behind
    assert len(files) >= len(rep.exported)  # chunks already running finish their images
    again = run_export(catalog, vids, tmp_path / "o", ExportSettings(long_edge=96, on_conflict="skip"), cluster=address)
    assert len(again.exported) + len(again.skipped) == FRAMES and not again.failed


@needs_pg
@pytest.mark.catalog
def test_mask_refresh_and_thumbnails_on_the_cluster_are_done_once(catalog, shoot, cluster):
    from maskroom.engine.mask_refresh import refresh_images
    from maskroom.engine.thumbnails import render_edited_thumbnails

    address, _client = cluster
    src = shoot[0]  # the one frame with a sky mask
    first = list(refresh_images(catalog, shoot[:3], force=True, cluster=address))
    assert sorted(r["image_id"] for r in first) == sorted(shoot[:3]) and not any("error" in r for r in first)
    assert sum(r["derived"] for r in first) == 1  # the sky of the source; the others have no AI mask
    again = list(refresh_images(catalog, [src], jobs=1))  # the local run finds the worker's raster current
    assert again[0]["derived"] == 0
    cells = {c["image_id"]: c for c in render_edited_thumbnails(catalog, [(src, None), (shoot[1], None)],
                                                                cluster=address)}
    assert {i: c["status"] for i, c in cells.items()} == {src: "rendered", shoot[1]: "unedited"}
    local = list(render_edited_thumbnails(catalog, [(src, None)]))  # the worker's file is the cached one
    assert local[0]["status"] == "cached" and local[0]["path"] == cells[src]["path"]


def test_a_scheduler_without_workers_or_no_scheduler_is_one_line():
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", scheduler_port=0, dashboard_address=":0") as lc:
        with pytest.raises(ClusterError, match="no workers are connected"):
            make_executor(None, cluster=lc.scheduler_address)
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        make_executor(None, cluster="tcp://127.0.0.1:9")


@needs_pg
@pytest.mark.catalog
def test_import_on_the_cluster_reads_through_the_path_map(catalog, cluster, tmp_path):
    """`maskroom import DIR --cluster ADDR --map DIR=WORKER_DIR`: the photographer's
    machine lists DIR, the workers read the files where they see them (here the real
    JPEGs sit only under WORKER_DIR; DIR holds unreadable stand-ins of the same names),
    and the catalog records DIR's paths."""
    address, _client = cluster
    studio, worker = tmp_path / "Volumes" / "Shoots", tmp_path / "mnt" / "shoots"
    bgr = cv2.imread(str(SAMPLES / "immich_tanners_ridge.jpg"), cv2.IMREAD_COLOR)
    for i in range(6):
        write_jpeg(worker / f"frame_{i}.jpg", cv2.cvtColor(cv2.resize(bgr, (160 + 8 * i, 120)), cv2.COLOR_BGR2RGB))
        (studio / f"frame_{i}.jpg").parent.mkdir(parents=True, exist_ok=True)
        (studio / f"frame_{i}.jpg").write_bytes(b"not a jpeg: only the workers' mount has the photo")
    # Without a mapping the workers read the stand-ins: every file is skipped, with its reason.
    bad = json.loads(run_cli(catalog, "import", str(studio), "--cluster", address, "--json").stdout)
    assert len(bad["skipped"]) == 6 and not bad["imported"], bad
    out = run_cli(catalog, "import", str(studio), "--cluster", address, "--map", f"{studio}={worker}", "--json")
    report = json.loads(out.stdout)
    assert len(report["imported"]) == 6 and not report["skipped"], report
    with catalog.session() as s:
        rows = sorted(s.execute(select(Image.path, Image.width)).all())
        assert [(p, w) for p, w in rows] == [(str(studio / f"frame_{i}.jpg"), 160 + 8 * i) for i in range(6)]
        assert load_path_map(s).local(str(studio / "x.jpg")) == str(worker / "x.jpg")  # stored for later batches
