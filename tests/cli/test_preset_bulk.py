"""Issue 3's whole flow on the CLI: import, save a preset with masked layers, apply it to a
filter, export everything — on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from PIL import Image as PILImage

from conftest import tree_digest, run_cli
from maskroom.catalog import edits

pytestmark = pytest.mark.catalog


run = run_cli


def test_preset_with_masked_layers_applied_by_filter_then_export_all(catalog, sample_copy, tmp_path):
    before = tree_digest(sample_copy)
    run(catalog, "import", str(sample_copy), "--jobs", "1")
    grad = tmp_path / "grad.json"
    grad.write_text(json.dumps([{"kind": "linear", "params": {"x0": 0.5, "y0": 0.0, "x1": 0.5, "y1": 0.6}}]))
    run(catalog, "edit", "1", "--set", "exposure=+0.3")
    run(catalog, "edit", "1", "--layer", "Top", "--mask-json", str(grad), "--set", "exposure=-0.8")
    run(catalog, "preset", "save", "Pop", "--from", "1")
    run(catalog, "preset", "apply", "Pop", "--filter", "id=2-10")
    with catalog.session() as s:
        for image_id in range(2, 11):
            recipe = edits.load_recipe(s, edits.get_version(s, image_id).id)
            top = recipe.layer("Top")
            assert top is not None and top.adjustments["exposure"] == -0.8
            assert top.mask.components[0].kind == "linear"
            assert recipe.global_layer.adjustments["exposure"] == 0.3
    out = tmp_path / "out"
    run(catalog, "export", "--all", "--to", str(out), "--long-edge", "300")
    files = sorted(out.glob("*.jpg"))
    assert len(files) == 10
    for f in files:
        with PILImage.open(f) as im:
            assert max(im.size) == 300 or max(im.size) < 300 and "thompson" in f.name
    assert tree_digest(sample_copy) == before
