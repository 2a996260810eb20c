"""The user's lens-corrections default (catalog setting develop.lens_default, `maskroom
lens-default`, the Lens Corrections section): a recipe with no lens setting renders
corrected when it is auto and lensfun knows the lens, exactly as an explicit
``--lens auto`` does; an explicit off stays off; a lens without a profile renders
uncorrected rather than failing."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import run_cli
from develop_support import add_image
from maskroom.catalog.schema import Image
from maskroom.core.recipe import Recipe
from maskroom.services import develop, editing
from maskroom.services.editing import EditChange

pytestmark = pytest.mark.catalog
CANON = ("Canon", "Canon EOS 6D", "Canon EF 24-105mm f/4L IS USM")


def _render(catalog, image_id, **settings):
    vid = editing.master_version_id(catalog, image_id)
    return develop.render_preview(catalog, vid, 256, recipe=Recipe(settings=settings)).astype(np.int16)


def test_default_auto_corrects_like_an_explicit_auto(catalog, sample_copy):
    known = add_image(catalog, sample_copy / "immich_el_torcal_rocks.jpg")
    unknown = add_image(catalog, sample_copy / "immich_tanners_ridge.jpg")
    with catalog.session() as s:
        row = s.get(Image, known)
        row.camera_make, row.camera_model, row.lens, row.focal_length, row.aperture = (*CANON, 24.0, 4.0)
        other = s.get(Image, unknown)
        other.focal_length, other.lens = 35.0, "Nobody's Dream 35mm f/0.7"
    assert run_cli(catalog, "lens-default").output.strip() == "lens corrections by default: auto"  # a new catalog
    run_cli(catalog, "lens-default", "off")
    plain = _render(catalog, known)
    explicit = _render(catalog, known, lens={"correct": "auto"})
    assert np.abs(plain - explicit).mean() > 0.5  # 24 mm at f/4: the correction shows
    unknown_plain = _render(catalog, unknown)

    assert "auto" in run_cli(catalog, "lens-default", "auto").output
    assert np.array_equal(_render(catalog, known), explicit)
    assert np.array_equal(_render(catalog, known, lens={"correct": "off"}), plain)
    assert np.array_equal(_render(catalog, unknown), unknown_plain)  # no profile: uncorrected, no error
    on, line = develop.lens_state(catalog, known, {})
    assert on and "by default" in line
    on, line = develop.lens_state(catalog, unknown, {})
    assert not on and line.startswith("Default auto, but no") and "profile" in line
    # The CLI's `edit --lens off` names it, so the default no longer decides.
    editing.apply_edit(catalog, known, EditChange(lens="off"))
    assert develop.lens_state(catalog, known, editing.load_recipe(
        catalog, editing.master_version_id(catalog, known)).settings)[0] is False

    r = run_cli(catalog, "lens-default", "sometimes", ok=False)
    assert r.exit_code == 1 and "lens default must be one of auto, off" in r.output
    assert develop.lens_default(catalog) == "auto"


def test_a_catalog_with_photos_keeps_lens_corrections_off_after_the_upgrade(catalog, sample_copy):
    """Migration 0007: existing edits render as before the default existed."""
    from alembic import command

    from maskroom.catalog.database import alembic_config
    from maskroom.catalog.schema import CatalogSetting

    cfg = alembic_config(catalog.engine)
    command.downgrade(cfg, "0006_iptc")
    command.upgrade(cfg, "head")  # no photos yet: the new default stands
    catalog.engine.dispose()
    assert develop.lens_default(catalog) == "auto"
    add_image(catalog, sample_copy / "immich_el_torcal_rocks.jpg")
    command.downgrade(cfg, "0006_iptc")
    command.upgrade(cfg, "head")
    catalog.engine.dispose()
    assert develop.lens_default(catalog) == "off"
    with catalog.session() as s:
        assert s.get(CatalogSetting, "develop.lens_default").value == "off"
