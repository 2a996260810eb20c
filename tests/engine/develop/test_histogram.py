"""The histogram: counts and clipping as a function, and `maskroom histogram` on a catalog."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from develop_support import add_image

from maskroom.cli import main
from maskroom.engine.develop.histogram import clipping_overlay, histogram
from maskroom.services.develop import version_histogram


def test_counts_and_clipping_of_a_known_image():
    img = np.zeros((10, 20, 3), np.uint8)
    img[:, :5] = (255, 255, 255)  # 50 white: highlight-clipped
    img[:, 5:10] = (255, 128, 0)  # 50 orange: both red at 255 and blue at 0
    img[:, 10:20] = (100, 100, 100)  # 100 grey
    h = histogram(img)
    assert h.pixels == 200 and sum(h.red) == sum(h.luminance) == 200
    assert h.red[255] == 100 and h.green[128] == 50 and h.blue[0] == 50 and h.red[100] == 100
    assert h.luminance[100] == 100 and h.luminance[255] == 50
    assert h.clipped_highlights == 100 and h.clipped_shadows == 50
    assert h.clipped_channels["blue"] == {"shadows": 50, "highlights": 50}
    over = clipping_overlay(img)
    assert tuple(over[0, 0]) == (255, 0, 0) and tuple(over[0, 15]) == (100, 100, 100)
    with pytest.raises(ValueError):
        histogram(img.astype(np.float32))


@pytest.mark.catalog
def test_histogram_of_a_version_follows_the_edit(catalog, catalog_location, sample_copy):
    from maskroom.catalog import edits

    image_id = add_image(catalog, sample_copy / "immich_el_torcal_rocks.jpg")
    before = version_histogram(catalog, image_id)
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id
        r = edits.load_recipe(s, vid)
        r.global_layer.adjustments["exposure"] = 3.0
        edits.save_recipe(s, vid, r, "bright")
    after = version_histogram(catalog, image_id)
    assert after.clipped_highlights > before.clipped_highlights + 1000
    assert np.average(np.arange(256), weights=after.luminance) > np.average(np.arange(256), weights=before.luminance)
    runner = CliRunner()
    res = runner.invoke(main, ["--catalog", catalog_location.url, "histogram", str(image_id), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["clipped_highlights"] == after.clipped_highlights and len(data["luminance"]) == 256
    res = runner.invoke(main, ["--catalog", catalog_location.url, "histogram", str(image_id)])
    assert res.exit_code == 0 and "highlights clipped" in res.output and "luminance |" in res.output
    res = runner.invoke(main, ["--catalog", catalog_location.url, "histogram", "999"])
    assert res.exit_code != 0 and "no image with id 999" in res.output
