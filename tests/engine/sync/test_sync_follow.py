"""An object box follows a thing that moves across the frame between shots (a bird, a
car), not only the camera's move (engine/sync/follow.py)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from maskroom.catalog import edits
from maskroom.catalog.schema import Image
from maskroom.core.recipe import Layer, MaskComponent, MaskDefinition, Recipe
from maskroom.engine.importer import run_import
from maskroom.engine.masks.cache import CachedResolver
from maskroom.engine.masks.compose import compose
from maskroom.engine.mask_refresh import mask_input
from maskroom.engine.sync.align import align, warp_alpha
from maskroom.engine.sync.engine import run_sync
from maskroom.engine.sync.follow import follow_object, planes
from maskroom.services.demo import camera_move
from sync_frames import load_sample, write_jpeg

W = 900
THING = 170  # the thing's long edge, pixels
START = (150, 260)  # its top-left on the first frame
# (the thing's own move in pixels, the camera's move)
SHOTS = [((0, 0), {}), ((260, 30), dict(dx=18, dy=-8)), ((420, -90), dict(dx=-25, dy=12, angle=2.0)),
         ((120, 60), dict(dx=8, dy=6, zoom=1.04, ev=0.7))]


def _scene():
    bg = load_sample("immich_el_torcal_rocks.jpg")
    bg = cv2.resize(bg, (W, round(W * bg.shape[0] / bg.shape[1])), interpolation=cv2.INTER_AREA)
    thing = load_sample("immich_cyclamen_persicum.jpg")
    s = THING / max(thing.shape[:2])
    thing = cv2.resize(thing, (round(thing.shape[1] * s), round(thing.shape[0] * s)), interpolation=cv2.INTER_AREA)
    th, tw = thing.shape[:2]
    yy, xx = np.mgrid[:th, :tw]
    a = ((((xx - tw / 2) / (tw / 2.1)) ** 2 + ((yy - th / 2) / (th / 2.1)) ** 2) <= 1).astype(np.float32)
    return bg, thing, cv2.GaussianBlur(a, (0, 0), 1.5)


def _frame(bg, thing, a, own, cam):
    """The shot: the thing moved by ``own`` over the scene, then the camera's move; and
    where the thing truly is (alpha)."""
    img, truth = bg.astype(np.float32), np.zeros(bg.shape[:2], np.float32)
    x, y = START[0] + own[0], START[1] + own[1]
    th, tw = a.shape
    img[y:y + th, x:x + tw] = img[y:y + th, x:x + tw] * (1 - a[..., None]) + thing * a[..., None]
    truth[y:y + th, x:x + tw] = a
    img = np.clip(img, 0, 255).astype(np.uint8)
    frame, M = camera_move(img, **cam)
    return frame, cv2.warpAffine(truth, M[:2], (img.shape[1], img.shape[0]))


def _iou(a, b) -> float:
    a, b = a >= 0.5, b >= 0.5
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_follow_finds_the_thing_and_leaves_a_still_one_alone():
    bg, thing, a = _scene()
    src, src_truth = _frame(bg, thing, a, (0, 0), {})
    moved, truth = _frame(bg, thing, a, (260, 30), dict(dx=18, dy=-8))
    al = align(src, moved)
    followed, found = follow_object(planes(src), src_truth, planes(moved), al)
    assert followed is not al and found["score"] > 0.9
    assert _iou(warp_alpha(src_truth, al, truth.shape), truth) < 0.1  # the camera's move alone misses it
    assert _iou(warp_alpha(src_truth, followed, truth.shape), truth) > 0.9
    # The thing did not move on its own: the camera's move is kept as it is.
    still, _ = _frame(bg, thing, a, (0, 0), dict(dx=18, dy=-8))
    al = align(src, still)
    assert follow_object(planes(src), src_truth, planes(still), al)[0] is al


@pytest.mark.catalog
def test_synced_object_box_follows_the_thing(catalog, tmp_path):
    bg, thing, a = _scene()
    truths = []
    for i, (own, cam) in enumerate(SHOTS):
        frame, truth = _frame(bg, thing, a, own, cam)
        write_jpeg(tmp_path / "shoot" / f"frame_{i}.jpg", frame)
        truths.append(truth)
    run_import(catalog, [tmp_path / "shoot"], jobs=1)
    with catalog.session() as s:
        ids = [i for (i,) in s.execute(select(Image.id).order_by(Image.filename))]
    h, w = truths[0].shape
    th, tw = a.shape
    m = 12  # a loose box round the thing
    box = [(START[0] - m) / w, (START[1] - m) / h, (START[0] + tw + m) / w, (START[1] + th + m) / h]
    with catalog.session() as s:
        vid = edits.get_version(s, ids[0]).id
        edits.save_recipe(s, vid, Recipe(layers=[Layer("Global"), Layer(
            "Flower", adjustments={"saturation": 20},
            mask=MaskDefinition([MaskComponent("object", params={"box": [round(v, 4) for v in box]})]))]), "edit")
    rep = run_sync(catalog, ids[0], ids[1:])
    assert [t.status for t in rep.targets] == ["synced"] * (len(ids) - 1)
    for t, iid, truth in zip(rep.targets, ids[1:], truths[1:]):
        with catalog.session() as s:
            v = edits.get_version(s, iid).id
            recipe = edits.load_recipe(s, v)
        comp = recipe.layer("Flower").mask.components[0]
        assert comp.derived["sync"]["own_move"]["score"] > 0.8
        inp = mask_input(catalog, iid)
        got = compose(recipe.layer("Flower").mask, inp, CachedResolver(catalog, v))
        truth = cv2.resize(truth, (got.shape[1], got.shape[0]), interpolation=cv2.INTER_AREA)
        assert _iou(got, truth) > 0.8, (iid, _iou(got, truth))
        assert not any(c.flag for c in t.components), t.components


@pytest.mark.catalog
def test_sync_cli_says_the_box_followed_the_subject(catalog, tmp_path):
    from click.testing import CliRunner

    from maskroom.cli import main

    bg, thing, a = _scene()
    for i, (own, cam) in enumerate(SHOTS[:2]):
        write_jpeg(tmp_path / "shoot" / f"frame_{i}.jpg", _frame(bg, thing, a, own, cam)[0])
    run_import(catalog, [tmp_path / "shoot"], jobs=1)
    h, w = bg.shape[:2]
    th, tw = a.shape
    box = [(START[0] - 10) / w, (START[1] - 10) / h, (START[0] + tw + 10) / w, (START[1] + th + 10) / h]
    with catalog.session() as s:
        ids = [i for (i,) in s.execute(select(Image.id).order_by(Image.filename))]
        vid = edits.get_version(s, ids[0]).id
        edits.save_recipe(s, vid, Recipe(layers=[Layer("Global"), Layer(
            "Flower", adjustments={"saturation": 20},
            mask=MaskDefinition([MaskComponent("object", params={"box": [round(v, 4) for v in box]})]))]), "edit")
    out = CliRunner().invoke(main, ["--catalog", catalog.location.url, "sync", str(ids[0]), "--to", str(ids[1])])
    assert out.exit_code == 0, out.output
    assert "Flower [object] followed the subject's own move (+29% across" in out.output, out.output
