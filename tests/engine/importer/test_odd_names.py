"""File names that are not valid UTF-8 (bytes a camera card or an old NAS may hold).

One such name must not abort an import or a watch batch: that file is skipped with
one line naming it (shown with its bad byte as \\xe9), every other file is imported,
and the import session ends "completed".
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import SAMPLES, run_cli
from maskroom.catalog.schema import Image, ImportProblem, ImportSession

pytestmark = pytest.mark.catalog

BAD = b"caf\xe9.jpg"


@pytest.fixture
def odd_folder(tmp_path) -> Path:
    folder = tmp_path / "shoot"
    folder.mkdir()
    shutil.copy(SAMPLES / "immich_cyclamen_persicum.jpg", folder / "good.jpg")
    shutil.copy(SAMPLES / "immich_notocactus_minimus.jpg", folder / "zz-also-good.jpg")
    bad = os.path.join(os.fsencode(folder), BAD)
    try:
        shutil.copy(SAMPLES / "immich_portrait_curies.jpg", os.fsdecode(bad))
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    assert BAD in os.listdir(os.fsencode(folder))
    return folder


def _images(catalog) -> list[str]:
    with catalog.session() as s:
        return sorted(Path(p).name for p in s.scalars(select(Image.path)))


def test_import_skips_only_the_undecodable_name(catalog, odd_folder):
    result = run_cli(catalog, "import", odd_folder, "--jobs", "1", ok=False)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = [x for x in result.output.splitlines() if "caf\\xe9.jpg" in x]
    assert lines and all("not valid UTF-8" in x for x in lines), result.output
    assert _images(catalog) == ["good.jpg", "zz-also-good.jpg"]
    with catalog.session() as s:
        sess = s.scalars(select(ImportSession)).one()
        assert sess.status == "completed" and sess.imported == 2 and sess.skipped == 1
        problem = s.scalars(select(ImportProblem)).one()
        assert problem.path.endswith("caf\\xe9.jpg")


def test_watch_once_imports_the_good_files_and_names_the_bad_one(catalog, odd_folder):
    result = run_cli(catalog, "watch", odd_folder, "--once", "--settle", "0.05", ok=False)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "failed" not in result.output, result.output
    assert "caf\\xe9.jpg: skipped" in result.output
    assert _images(catalog) == ["good.jpg", "zz-also-good.jpg"]


def test_a_folder_named_with_bad_bytes_is_named_not_fatal(catalog, tmp_path):
    top = tmp_path / "top"
    top.mkdir()
    shutil.copy(SAMPLES / "immich_cyclamen_persicum.jpg", top / "a.jpg")
    bad_dir = os.path.join(os.fsencode(top), b"d\xe9j\xe0")
    os.mkdir(bad_dir)
    shutil.copy(SAMPLES / "immich_notocactus_minimus.jpg", os.fsdecode(os.path.join(bad_dir, b"b.jpg")))
    result = run_cli(catalog, "import", top, "--recursive", "--jobs", "1", ok=False)
    assert "d\\xe9j\\xe0" in result.output, result.output
    assert _images(catalog) == ["a.jpg"]


def test_control_characters_in_a_name_are_shown_on_one_line(catalog, tmp_path):
    """A newline, tab or escape is legal in a POSIX name: the photo is imported under
    its real name, and every text line that shows it (ls, show, an error) keeps it on
    one line, escaped; --json keeps the name as it is."""
    import json

    from maskroom.core.paths import display_path

    folder = tmp_path / "odd"
    folder.mkdir()
    name = "new\nline\t\x1b[31mred.jpg"
    shutil.copy(SAMPLES / "immich_cyclamen_persicum.jpg", folder / name)
    (folder / "broken\nname.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    result = run_cli(catalog, "import", folder, "--jobs", "1", ok=False)
    skipped = [x for x in result.output.splitlines() if "broken" in x]
    assert skipped and all("broken\\nname.jpg" in x for x in skipped), result.output
    assert _images(catalog) == [name]
    listing = [x for x in run_cli(catalog, "ls").output.splitlines() if not x.endswith("image(s)")]
    assert len(listing) == 2 and listing[1].endswith("new\\nline\\t\\x1b[31mred.jpg"), listing
    shown = run_cli(catalog, "show", "1").output
    assert "filename: new\\nline\\t\\x1b[31mred.jpg" in shown and "\x1b" not in shown
    assert json.loads(run_cli(catalog, "ls", "--json").output)[0]["filename"] == name
    assert display_path(b"caf\xe9\n.jpg") == "caf\\xe9\\n.jpg"


def test_bidirectional_overrides_in_a_name_are_shown_escaped():
    """A right-to-left override would reverse the rest of a printed line ("photo<RLO>gpj.exe"
    shows as "photoexe.jpg"); the C1 controls are terminal controls too.  Letters of any
    script stay as they are."""
    from maskroom.core.paths import display_path, one_line

    assert one_line("photo\u202egpj.exe") == "photo\\u202egpj.exe"
    assert display_path("a\u2067b\u200fc\x85d.jpg") == "a\\u2067b\\u200fc\\x85d.jpg"
    assert one_line("Café Zoë 日本 עברית.jpg") == "Café Zoë 日本 עברית.jpg"
