"""Output names from templates: fields, and that no template can write outside --to."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from maskroom.engine.export.naming import (
    MAX_NAME_BYTES,
    NameFields,
    TemplateError,
    check_template,
    ensure_inside,
    relative_name,
    sanitize_component,
)

F = NameFields(
    name="IMG_0042", id=7, seq=3, date=datetime(2024, 5, 6, 7, 8, 9), rating=4, camera="Canon EOS R5", version="Master"
)


def _safe(out: Path, template: str, fields: NameFields = F, ext: str = "jpg") -> Path:
    rel = relative_name(template, fields, ext)
    target = ensure_inside(out, rel)
    assert target.is_relative_to(out.resolve()) and target != out.resolve()
    for part in rel.parts:
        assert part not in ("", ".", "..") and "\x00" not in part and "/" not in part
        assert len(part.encode()) <= MAX_NAME_BYTES
    return rel


def test_fields_fill_in():
    rel = relative_name("{date:%Y%m%d}_{seq:04}_{name}_{id}_{rating}_{camera}_{version}", F, "jpg")
    assert str(rel) == "20240506_0003_IMG_0042_7_4_Canon EOS R5_Master.jpg"


def test_subfolders_from_literal_slash():
    assert relative_name("{date:%Y}/{date:%m}/{name}", F, "tif") == Path("2024/05/IMG_0042.tif")


def test_unknown_field_and_attribute_access_are_refused():
    for bad in ("{nope}", "{name.__class__}", "{name[0]}", "{name!r}", "{seq:%Y}", "{", ""):
        with pytest.raises(TemplateError):
            check_template(bad)


def test_missing_date_does_not_crash():
    f = NameFields(name="a", id=1, date=None)
    assert relative_name("{date:%Y}_{name}", f, "jpg") == Path("nodate_a.jpg")


@pytest.mark.parametrize("template", ["../{name}", "../../../../etc/{name}", "{name}/../../x", "a/../../{name}"])
def test_dotdot_in_template_stays_inside(tmp_path, template):
    rel = _safe(tmp_path, template)
    assert ".." not in rel.parts


def test_dotdot_in_field_value_stays_inside(tmp_path):
    for name in ("..", "../../etc/passwd", "..\\..\\win", "/", "a/b"):
        rel = _safe(tmp_path, "{name}", NameFields(name=name, id=9))
        assert len(rel.parts) == 1, rel  # a value can never add a folder


def test_absolute_template_becomes_relative(tmp_path):
    rel = _safe(tmp_path, "/etc/{name}")
    assert not rel.is_absolute() and rel == Path("etc/IMG_0042.jpg")
    rel = _safe(tmp_path, "C:\\Windows\\{name}")
    assert not rel.is_absolute() and "C:" not in str(rel)


def test_nul_and_control_characters_removed(tmp_path):
    rel = _safe(tmp_path, "a\x00b\x07{name}", NameFields(name="x\x00y\n", id=1))
    assert str(rel) == "a_b_x_y_.jpg"


@pytest.mark.parametrize("reserved", ["CON", "nul", "Com1", "LPT9", "aux.txt", "PRN "])
def test_windows_reserved_names_renamed(tmp_path, reserved):
    rel = _safe(tmp_path, "{name}", NameFields(name=reserved, id=1))
    assert rel.stem.split(".")[0].upper().strip() not in {"CON", "NUL", "COM1", "LPT9", "AUX", "PRN"}


def test_overlong_names_truncated_on_character_boundary(tmp_path):
    rel = _safe(tmp_path, "{name}", NameFields(name="é" * 400, id=1))
    assert rel.suffix == ".jpg" and set(rel.stem) == {"é"}
    assert len(rel.name.encode()) <= MAX_NAME_BYTES
    # the truncated name can really be created
    (tmp_path / rel).write_bytes(b"x")


@pytest.mark.parametrize("template,name", [("{name}", ""), ("{name}", "..."), ("{camera}", "x"), ("   ", "x")])
def test_empty_results_get_a_fallback_name(tmp_path, template, name):
    f = NameFields(name=name, id=12, camera="")
    if not template.strip():
        with pytest.raises(TemplateError):
            relative_name(template, f, "jpg")
        return
    rel = _safe(tmp_path, template, f)
    assert rel == Path("image_12.jpg")


def test_leading_dots_do_not_hide_files():
    assert sanitize_component(".hidden") == "hidden"
    assert sanitize_component("trailing. . ") == "trailing"


def test_extension_in_template_not_doubled():
    assert relative_name("{name}.jpg", F, "jpg") == Path("IMG_0042.jpg")


def test_symlink_inside_out_dir_cannot_lead_out(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "link")
    with pytest.raises(ValueError, match="outside"):
        ensure_inside(out, relative_name("link/{name}", F, "jpg"))
