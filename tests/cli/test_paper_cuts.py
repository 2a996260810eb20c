"""What a new user tripped on (issue 13's fresh-clone list): each is one clear line or
a readable answer now."""
from __future__ import annotations

import pytest

from conftest import run_cli
from maskroom.catalog.schema import Image

pytestmark = pytest.mark.catalog


@pytest.fixture
def two(catalog, samples_dir, tmp_path):
    import shutil

    for name in ("immich_prairie_falcon.jpg", "mpl_grace_hopper.jpg"):
        shutil.copy(samples_dir / name, tmp_path / name)
    run_cli(catalog, "import", tmp_path)
    with catalog.session() as s:
        return {i.filename: i.id for i in s.query(Image)}


def test_import_of_a_missing_path_is_an_error_and_records_nothing(catalog, tmp_path):
    r = run_cli(catalog, "import", tmp_path / "no-such-shoot", ok=False)
    assert r.exit_code == 1
    assert r.output.strip().endswith("no-such-shoot: no such file or folder")
    from maskroom.catalog.schema import ImportSession

    with catalog.session() as s:
        assert s.query(ImportSession).count() == 0


def test_a_filter_that_matches_nothing_is_said(catalog, two):
    for args in (["rate", "3"], ["flag", "pick"], ["tag", "add", "x"], ["export", "--to", "out"]):
        r = run_cli(catalog, *args, "--filter", "text=nomatch", ok=False)
        assert r.exit_code == 1, (args, r.output)
        assert "no photo matches --filter text=nomatch" in r.output, (args, r.output)
    with catalog.session() as s:
        assert {i.rating for i in s.query(Image)} == {0}


def test_ls_has_a_header_and_show_speaks_photographer(catalog, two):
    out = run_cli(catalog, "ls").stdout.splitlines()
    assert out[0].split() == ["ID", "STARS", "F", "LABEL", "CAPTURED", "CAMERA", "FILE"]
    shown = run_cli(catalog, "show", two["immich_prairie_falcon.jpg"]).stdout
    assert "shutter: 1/4000 s" in shown and "aperture: f/7.1" in shown and "focal_length: 500 mm" in shown
    assert "[" not in shown and "{" not in shown  # no Python list/dict reprs


def test_ui_without_a_display_is_one_line(monkeypatch):
    import sys

    from maskroom.ui import display_problem

    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux desktops")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert display_problem().startswith("no display:")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert display_problem() is None


def test_demo_keeps_out_of_the_current_folder(monkeypatch, tmp_path):
    from maskroom.services.demo import default_workdir

    monkeypatch.chdir(tmp_path)
    assert tmp_path not in default_workdir().parents and default_workdir().name == "demo"


def test_a_missing_image_is_named_once(catalog, two):
    r = run_cli(catalog, "edit", "999", "--set", "exposure=1", ok=False)
    assert r.exit_code == 1 and r.output.count("image 999") == 1 and "does not exist" in r.output, r.output
    r = run_cli(catalog, "mask", "add", "999", "--kind", "sky", ok=False)
    assert r.exit_code == 1 and r.output.count("999") == 1, r.output


def test_an_original_replaced_by_junk_is_named_once(catalog, two, tmp_path):
    # Overwritten after import (a sync tool, a failed copy): one line naming the file once.
    path = tmp_path / "mpl_grace_hopper.jpg"
    path.write_bytes(b"not a photo any more")
    r = run_cli(catalog, "render", str(two[path.name]), "--out", str(tmp_path / "r.jpg"), ok=False)
    assert r.exit_code == 1 and "cannot decode: not a readable image" in r.output, r.output
    line = r.output.strip().splitlines()[-1]
    assert line.startswith("Error: image ") and line.count(f"{path}:") == 1, line
    assert not (tmp_path / "r.jpg").exists()


def test_demo_says_why_a_mask_is_empty(catalog, samples_dir, tmp_path):
    # The demo's per-photo line said "sky none" and nothing more; a doubtful or empty AI
    # mask must say why wherever it is shown.
    import shutil

    from maskroom.services.demo import mask_overlays

    shutil.copy(samples_dir / "immich_portrait_curies.jpg", tmp_path / "curies.jpg")
    run_cli(catalog, "import", tmp_path)
    with catalog.session() as s:
        image_id = s.query(Image).one().id
    lines = []
    mask_overlays(catalog, [image_id], ["sky"], tmp_path / "overlays", lines.append)
    assert lines == ["  masks on curies.jpg: sky none (no sky in this photo (confidence 0.00))"], lines
