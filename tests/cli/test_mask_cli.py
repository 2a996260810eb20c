"""`maskroom mask add|list|render|refresh|remove` and tools/eval_masks.py end to end."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from maskroom.cli import main
from tools.eval_masks import main as eval_masks

from mask_helpers import add_image, disc_picture

pytestmark = pytest.mark.catalog


@pytest.fixture
def shot(catalog, tmp_path):
    truth = disc_picture(tmp_path / "disc.png")
    image_id = add_image(catalog, tmp_path / "disc.png")
    return image_id, truth


def run(catalog, *args):
    result = CliRunner().invoke(main, ["--catalog", catalog.location.url, *map(str, args)])
    return result


def test_add_list_render_object_mask(catalog, shot, tmp_path):
    image_id, truth = shot
    r = run(catalog, "mask", "add", image_id, "--kind", "object", "--box", "0.2,0.15,0.8,0.95", "--layer", "Disc", "--json")
    assert r.exit_code == 0, r.output
    uid = json.loads(r.output)["uid"]
    r = run(catalog, "mask", "list", image_id, "--json")
    comps = json.loads(r.output)["components"]
    assert [(c["layer"], c["uid"], c["kind"]) for c in comps] == [("Disc", uid, "object")]
    out = tmp_path / "matte.png"
    r = run(catalog, "mask", "render", image_id, "Disc", "--out", out)
    assert r.exit_code == 0, r.output
    assert "1 hit / 0 derived" in r.output  # `mask add` derived it (to warn when it finds nothing)
    matte = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE) > 127
    iou = (matte & truth).sum() / (matte | truth).sum()
    assert iou > 0.9
    r = run(catalog, "mask", "render", image_id, "Disc", "--out", tmp_path / "over.png", "--overlay")
    assert "1 hit / 0 derived" in r.output
    over = cv2.imread(str(tmp_path / "over.png"))
    assert over.shape[:2] == truth.shape
    r = run(catalog, "mask", "list", image_id)
    assert "ok" in r.output and uid in r.output


def test_subtract_and_invert_compose_with_ai_kind(catalog, shot, tmp_path):
    image_id, truth = shot
    run(catalog, "mask", "add", image_id, "--kind", "object", "--box", "0.2,0.15,0.8,0.95", "--layer", "L")
    r = run(catalog, "mask", "add", image_id, "--kind", "object", "--box", "0.2,0.15,0.8,0.95", "--layer", "L",
            "--mode", "subtract", "--invert")
    assert r.exit_code == 0, r.output
    run(catalog, "mask", "render", image_id, "L", "--out", tmp_path / "l.png")
    matte = cv2.imread(str(tmp_path / "l.png"), cv2.IMREAD_GRAYSCALE) > 127
    # disc minus (not disc) = disc
    assert (matte & truth).sum() / (matte | truth).sum() > 0.9


def test_bad_input_is_one_clear_line(catalog, shot, tmp_path):
    image_id, _ = shot
    r = run(catalog, "mask", "add", image_id, "--kind", "object", "--box", "0.2,nope")
    assert r.exit_code != 0 and "--box" in r.output and len(r.output.strip().splitlines()) == 1
    r = run(catalog, "mask", "add", image_id, "--kind", "object")
    assert r.exit_code != 0 and "--box or --lasso" in r.output
    (tmp_path / "l.json").write_text("[[0.1, 0.1]]")
    r = run(catalog, "mask", "add", image_id, "--kind", "object", "--lasso", tmp_path / "l.json")
    assert r.exit_code != 0 and "l.json" in r.output
    r = run(catalog, "mask", "render", image_id, "Nope", "--out", tmp_path / "x.png")
    assert r.exit_code != 0 and "no layer named 'Nope'" in r.output


def test_remove_and_refresh(catalog, shot, tmp_path):
    image_id, _ = shot
    lasso = tmp_path / "lasso.json"
    lasso.write_text(json.dumps([[0.25, 0.2], [0.78, 0.2], [0.78, 0.92], [0.25, 0.92]]))
    r = run(catalog, "mask", "add", image_id, "--kind", "object", "--lasso", lasso, "--json")
    uid = json.loads(r.output)["uid"]
    r = run(catalog, "mask", "refresh", "--filter", "text=.png", "--force", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["images"] == 1 and data["derived"] == 1
    r = run(catalog, "mask", "refresh", image_id, "--json")
    assert json.loads(r.output)["derived"] == 0  # nothing stale
    r = run(catalog, "mask", "remove", image_id, uid)
    assert r.exit_code == 0
    r = run(catalog, "mask", "list", image_id, "--json")
    assert json.loads(r.output)["components"] == []


def test_eval_masks_reports_iou_and_panels(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir(), masks.mkdir()
    for i, c in enumerate([(0.5, 0.5), (0.4, 0.6)]):
        truth = disc_picture(images / f"p{i}.png", centre=c, seed=i)
        cv2.imwrite(str(masks / f"p{i}.png"), truth.astype(np.uint8) * 255)
    (images / "broken.png").write_bytes(b"not a png")
    cv2.imwrite(str(masks / "broken.png"), np.zeros((4, 4), np.uint8))
    r = CliRunner().invoke(eval_masks, ["--kind", "object", "--params", '{"box": [0.1, 0.1, 0.9, 0.95]}',
                                  "--images", images, "--masks", masks, "--json", "--panels", tmp_path / "panels"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output[r.output.index("{"):])
    s = data["summary"]
    assert s["pairs"] == 3 and s["errors"] == 1
    assert s["mean_iou"] > 0.85
    assert len(list((tmp_path / "panels").glob("*.png"))) == 2


def test_version_option_edits_the_virtual_copy_only(catalog, shot, tmp_path):
    from maskroom.catalog import edits

    image_id, _ = shot
    with catalog.session() as s:
        edits.get_version(s, image_id)
        copy = edits.create_virtual_copy(s, image_id).id
    r = run(catalog, "mask", "add", image_id, "--version", copy, "--kind", "object",
            "--box", "0.2,0.15,0.8,0.95", "--layer", "Disc", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["version_id"] == copy
    master = json.loads(run(catalog, "mask", "list", image_id, "--json").output)["components"]
    on_copy = json.loads(run(catalog, "mask", "list", image_id, "--version", copy, "--json").output)["components"]
    assert master == [] and [c["kind"] for c in on_copy] == ["object"]
    r = run(catalog, "mask", "list", image_id, "--version", 999999)
    assert r.exit_code != 0 and f"image {image_id}" in r.output
