"""The bad-input table of issue 13 through the CLI: refused at the door with one line,
and the catalog is exactly as before (nothing stored that would poison a render)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import SAMPLES, run_cli
from maskroom.catalog.edits import get_version
from maskroom.catalog.schema import EditVersion, HistoryStep, Layer, Preset
from maskroom.engine.importer import run_import

pytestmark = pytest.mark.catalog

PEOPLE = "immich_portrait_curies.jpg"  # two people


@pytest.fixture
def photo(catalog, tmp_path):
    image_id = run_import(catalog, [SAMPLES / PEOPLE], jobs=1).imported[0]
    with catalog.session() as s:
        get_version(s, image_id)
    # One good radial to `mask set` against.
    out = run_cli(catalog, "mask", "add", image_id, "--kind", "radial", "--layer", "Pop", "--json",
                  "--params", '{"cx": 0.5, "cy": 0.4, "rx": 0.2, "ry": 0.3}')
    return image_id, json.loads(out.output)["uid"]


def _state(catalog) -> list:
    """Everything an edit is made of, as plain values."""
    with catalog.session() as s:
        return [
            [(v.id, v.settings, v.history_position, v.recipe_hash) for v in s.scalars(select(EditVersion))],
            [(x.version_id, x.position, x.name, x.opacity, x.adjustments, x.mask)
             for x in s.scalars(select(Layer).order_by(Layer.id))],
            [(h.version_id, h.seq, h.recipe) for h in s.scalars(select(HistoryStep).order_by(HistoryStep.id))],
            [(p.kind, p.name, p.body) for p in s.scalars(select(Preset))],
        ]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _preset(**glob) -> str:
    # json.dumps writes NaN / Infinity literals, as a hand-edited or foreign file may hold.
    return json.dumps({"format": "maskroom-develop-preset", "schema_version": 1, "name": "P",
                       "global": {"adjustments": glob}, "layers": []})


CASES = [
    # (id, argv after the command, what the one line must mention)
    ("straighten nan", ["edit", "{id}", "--straighten", "nan"], "straighten"),
    ("straighten inf", ["edit", "{id}", "--straighten", "inf"], "straighten"),
    ("set nan", ["edit", "{id}", "--set", "exposure=nan"], "exposure"),
    ("set 1e308", ["edit", "{id}", "--set", "exposure=1e308"], "exposure"),
    ("set inf", ["edit", "{id}", "--set", "contrast=-inf"], "contrast"),
    ("set unknown key", ["edit", "{id}", "--set", "exposur=1"], "exposur"),
    ("crop inverted", ["edit", "{id}", "--crop", "0.8,0,0.2,1"], "crop"),
    ("crop nan", ["edit", "{id}", "--crop", "nan,0,1,1"], "crop"),
    ("recipe nan", ["edit", "{id}", "--recipe", "{recipe_nan}"], "finite"),
    ("recipe unknown setting", ["edit", "{id}", "--recipe", "{recipe_key}"], "vignette"),
    ("preset exposure nan", ["preset", "import", "{preset_nan}"], "exposure"),
    ("preset exposure 1e308", ["preset", "import", "{preset_big}"], "exposure"),
    ("preset unknown key", ["preset", "import", "{preset_key}"], "exposre"),
    ("preset unknown field", ["preset", "import", "{preset_field}"], "colour"),
    ("mask params NaN", ["mask", "add", "{id}", "--kind", "radial", "--params", '{"cx": NaN}'], "cx"),
    ("mask params 1e309", ["mask", "add", "{id}", "--kind", "radial", "--params", '{"rx": 1e309}'], "rx"),
    ("mask params abc", ["mask", "add", "{id}", "--kind", "radial", "--params", '{"cx": "abc"}'], "cx"),
    ("mask params unknown", ["mask", "add", "{id}", "--kind", "radial", "--params", '{"radius": 0.2}'], "radius"),
    ("linear missing point", ["mask", "add", "{id}", "--kind", "linear", "--params", '{"x0": 0.1}'], "linear"),
    ("feather nan", ["mask", "add", "{id}", "--kind", "sky", "--feather", "nan"], "feather"),
    ("feather negative", ["mask", "add", "{id}", "--kind", "sky", "--feather", "-0.1"], "feather"),
    ("grow inf", ["mask", "add", "{id}", "--kind", "sky", "--grow", "inf"], "grow"),
    ("strokes not a list", ["mask", "add", "{id}", "--kind", "brush", "--params", '{"strokes": "abc"}'], "strokes"),
    ("stroke points wrong type", ["mask", "add", "{id}", "--kind", "brush", "--params",
                                  '{"strokes": [{"points": 5}]}'], "points"),
    ("stroke size string", ["mask", "add", "{id}", "--kind", "brush", "--params",
                            '{"strokes": [{"points": [[0.1, 0.1]], "size": "big"}]}'], "size"),
    ("box inverted", ["mask", "add", "{id}", "--kind", "object", "--box", "0.8,0.8,0.2,0.2"], "inverted"),
    ("box out of range", ["mask", "add", "{id}", "--kind", "object", "--box", "0,0,1.5,1"], "box"),
    ("box param out of range", ["mask", "add", "{id}", "--kind", "object", "--params", '{"box": [0, 0, 2, 1]}'],
     "box"),
    ("person -1", ["mask", "add", "{id}", "--kind", "face-skin", "--person", "-1"], "person"),
    ("person beyond people found", ["mask", "add", "{id}", "--kind", "face-skin", "--person", "5"], "2 people"),
    ("lasso NaN", ["mask", "add", "{id}", "--kind", "object", "--lasso", "{lasso_nan}"], "lasso"),
    ("lasso inf", ["mask", "add", "{id}", "--kind", "object", "--lasso", "{lasso_inf}"], "lasso"),
    ("mask set NaN", ["mask", "set", "{id}", "{uid}", "--params", '{"cx": NaN}'], "cx"),
    ("mask set string", ["mask", "set", "{id}", "{uid}", "--params", '{"ry": "wide"}'], "ry"),
]


@pytest.mark.parametrize("argv,mention", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_value_is_refused_with_one_line_and_nothing_stored(catalog, photo, tmp_path, argv, mention):
    image_id, uid = photo
    files = {
        "recipe_nan": _write(tmp_path, "r1.json", '{"layers": [{"name": "Global", "adjustments": {"exposure": NaN}}]}'),
        "recipe_key": _write(tmp_path, "r2.json", '{"settings": {"vignette": 1}, "layers": []}'),
        "preset_nan": _write(tmp_path, "p1.json", _preset(exposure=float("nan"))),
        "preset_big": _write(tmp_path, "p2.json", _preset(exposure=1e308)),
        "preset_key": _write(tmp_path, "p3.json", _preset(exposre=1.0)),
        "preset_field": _write(tmp_path, "p4.json", _preset(exposure=1.0)[:-1] + ', "colour": "red"}'),
        "lasso_nan": _write(tmp_path, "l1.json", "[[0.1, 0.1], [0.5, NaN], [0.9, 0.9]]"),
        "lasso_inf": _write(tmp_path, "l2.json", "[[0.1, 0.1], [0.5, Infinity], [0.9, 0.9]]"),
    }
    values = {"id": image_id, "uid": uid, **files}
    args = [str(values[a[1:-1]]) if a[1:-1] in values else a for a in argv]
    before = _state(catalog)
    result = run_cli(catalog, *args, ok=False)
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert mention in lines[0], lines[0]
    assert _state(catalog) == before


def test_good_values_still_go_through(catalog, photo, tmp_path):
    image_id, uid = photo
    run_cli(catalog, "edit", image_id, "--straighten", "3.5", "--set", "exposure=0.5", "--crop", "0.1,0.1,0.9,0.9")
    run_cli(catalog, "mask", "set", image_id, uid, "--params", '{"cx": 0.45}')
    run_cli(catalog, "mask", "add", image_id, "--kind", "face-skin", "--person", "1")
    run_cli(catalog, "mask", "add", image_id, "--kind", "object", "--box", "0.1,0.1,0.6,0.9")
    good = _write(tmp_path, "good.json", _preset(exposure=0.7, contrast=10))
    run_cli(catalog, "preset", "import", good)
    run_cli(catalog, "preset", "apply", "P", image_id)
    with catalog.session() as s:
        version = get_version(s, image_id)
        assert version.settings["straighten"] == 3.5
        assert version.layers[0].adjustments == {"exposure": 0.7, "contrast": 10.0}
