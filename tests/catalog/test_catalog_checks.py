"""`maskroom catalog check|backup|upgrade` on real catalogs (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from maskroom.catalog import checks
from maskroom.catalog.schema import EditVersion, Folder, Image, Layer, PreviewCacheEntry

from conftest import run_cli

pytestmark = pytest.mark.catalog


def _add_image(catalog, path, n=1):
    with catalog.session() as s:
        f = s.scalar(select(Folder).where(Folder.path == str(path.parent))) or Folder(path=str(path.parent))
        st = path.stat() if path.exists() else None  # as imported: the check finds it unchanged
        img = Image(folder=f, filename=path.name, path=str(path), file_size=st.st_size if st else 1,
                    mtime=st.st_mtime if st else 0.0,
                    content_hash=f"hash{n}", format="jpeg", width=4, height=4)
        s.add_all([f, img])
        s.flush()
        return img.id


def _run(catalog, *args):
    return run_cli(catalog, *args, ok=False)


def test_check_clean_catalog_passes(catalog, tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x")
    _add_image(catalog, photo)
    result = _run(catalog, "catalog", "check")
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("ok")


def test_check_reports_missing_original_and_fix_marks_it(catalog, tmp_path):
    photo = tmp_path / "gone.jpg"
    photo.write_bytes(b"x")
    image_id = _add_image(catalog, photo)
    photo.unlink()
    result = _run(catalog, "catalog", "check")
    assert result.exit_code == 1
    assert f"image {image_id}: original missing" in result.output
    _run(catalog, "catalog", "check", "--fix")
    with catalog.session() as s:
        assert s.get(Image, image_id).missing is True


def test_check_finds_broken_layer_stack(catalog, tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x")
    image_id = _add_image(catalog, photo)
    with catalog.session() as s:
        v = EditVersion(image_id=image_id)
        v.layers.append(Layer(position=1, name="Sky layer", adjustments={}))
        s.add(v)
    found = checks.orphans(catalog)
    assert any("no global layer" in f.message for f in found)


def test_dangling_cache_rows_are_dropped_by_fix(catalog, tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x")
    image_id = _add_image(catalog, photo)
    with catalog.session() as s:
        s.add(PreviewCacheEntry(image_id=image_id, kind="thumb", key="k", path="thumbs/none.jpg", width=1, height=1))
    assert [f.kind for f in checks.cache_entries(catalog)] == ["cache"]
    result = _run(catalog, "catalog", "check", "--fix")
    assert result.exit_code == 0, result.output
    assert checks.cache_entries(catalog) == []


def test_backup_refuses_server_catalogs_clearly(catalog, tmp_path):
    result = _run(catalog, "catalog", "backup", str(tmp_path / "b.sqlite"))
    if catalog.location.is_sqlite:
        assert result.exit_code == 0 and (tmp_path / "b.sqlite").exists()
    else:
        assert result.exit_code == 1 and "pg_dump" in result.output
