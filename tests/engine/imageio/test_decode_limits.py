"""Decoding budgets: a configurable pixel limit, reduced decodes for small outputs,
and export name templates that cannot allocate without bound (issue 13, defects 7-8)."""
from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import SAMPLES, run_cli
from maskroom.core.config import ENV_MAX_PIXELS, max_pixels
from maskroom.core.errors import InvalidValue
from maskroom.engine.export.naming import TemplateError, check_template
from maskroom.engine.imageio.decode import DecodeError, decode_rgb
from maskroom.engine.importer import run_import


def zero_png(path: Path, w: int, h: int) -> Path:
    """A PNG of zeros written row by row (a small decompression bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(b"\0" * (1 + 3 * w)) for _ in range(h)) + comp.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def test_pixel_limit_is_configurable_and_refuses_with_one_line(tmp_path, monkeypatch):
    bomb = zero_png(tmp_path / "bomb.png", 2000, 1000)
    assert decode_rgb(bomb).shape == (1000, 2000, 3)  # under the default limit
    monkeypatch.setenv(ENV_MAX_PIXELS, "1000000")
    assert max_pixels() == 1_000_000
    with pytest.raises(DecodeError) as err:
        decode_rgb(bomb)
    msg = str(err.value)
    assert "2000x1000" in msg and "2 megapixels" in msg and ENV_MAX_PIXELS in msg and "\n" not in msg


def test_bad_pixel_limit_setting_is_named(monkeypatch):
    monkeypatch.setenv(ENV_MAX_PIXELS, "lots")
    with pytest.raises(InvalidValue, match=ENV_MAX_PIXELS):
        max_pixels()


@pytest.mark.catalog
def test_import_refuses_the_bomb_and_goes_on(catalog, tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    zero_png(folder / "bomb.png", 2000, 1000)
    shutil.copy(SAMPLES / "immich_cyclamen_persicum.jpg", folder / "ok.jpg")
    monkeypatch.setenv(ENV_MAX_PIXELS, "1000000")
    report = run_import(catalog, [folder], jobs=1)
    assert len(report.imported) == 1
    [(path, reason)] = report.skipped
    assert path.endswith("bomb.png") and "over the limit of 1 megapixels" in reason


def test_png_decoded_for_a_small_output_is_reduced_at_once(tmp_path):
    rng = np.random.default_rng(0)
    big = cv2.resize(rng.integers(0, 255, (30, 40, 3), np.uint8), (4000, 3000), interpolation=cv2.INTER_LINEAR)
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), big)
    small = decode_rgb(path, max_side=1000)
    assert 1000 <= max(small.shape[:2]) < 2000  # never more than twice what was asked
    # Box-reduced, so it matches a careful area resize of the full decode.
    want = cv2.resize(big[..., ::-1], (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - want.astype(int)).mean() < 1.5


def test_full_jpeg_decode_matches_pillow_and_truncation_is_still_reported(tmp_path):
    src = SAMPLES / "immich_prairie_falcon.jpg"
    ours = decode_rgb(src)
    with Image.open(src) as im:
        ref = np.asarray(im.convert("RGB"))
    assert ours.shape == ref.shape and np.abs(ours.astype(int) - ref.astype(int)).max() <= 2
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(DecodeError, match="truncated"):
        decode_rgb(cut)


@pytest.mark.parametrize("template", ["{seq:0300}", "{name:>999999999}", "{id:.500}"])
def test_template_widths_beyond_a_file_name_are_refused(template):
    with pytest.raises(TemplateError, match="more than a file name can hold"):
        check_template(template)


@pytest.mark.catalog
def test_export_cli_refuses_a_huge_template_width_in_one_line(catalog, tmp_path):
    run_import(catalog, [SAMPLES / "immich_cyclamen_persicum.jpg"], jobs=1)
    result = run_cli(catalog, "export", "--all", "--to", tmp_path / "out", "--template", "{seq:999999999}", ok=False)
    assert result.exit_code != 0
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "999999999" in lines[0], result.output
