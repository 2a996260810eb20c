"""The committed hard-case set (bench/data/hard-cases): every photo is there as its
manifest says (sha256, size at most 1 MP), with a source and a licence, and every grade
names a photo and a kind of the set."""
from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2] / "bench" / "data"
SET = ROOT / "hard-cases"
KINDS = {"subject", "sky", "person", "hair", "face-skin", "iris", "lips"}


def test_manifest_matches_the_files():
    cases = json.loads((SET / "manifest.json").read_text())["cases"]
    assert len(cases) >= 40 and len({c["id"] for c in cases}) == len(cases)
    for case in cases:
        path = SET / case["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == case["sha256"], case["id"]
        with Image.open(path) as im:
            # at most 1 MP, the sides rounded to whole pixels
            assert list(im.size) == case["size"] and im.size[0] * im.size[1] <= 1_002_000
        assert case["source"].split()[0] in ("GitHub", "PyPI", "Debian")  # where it can be had again
        assert case["licence"] and case["case"] and case["kinds"]
    listed = {p.name for p in SET.iterdir()} - {"manifest.json"}
    assert listed == {c["file"] for c in cases}  # nothing unlisted (and so unlicensed) is committed


def test_grades_name_cases_and_kinds():
    listed = json.loads((SET / "manifest.json").read_text())["cases"]
    cases = {c["id"] for c in listed}
    boxes = {c["id"]: c.get("boxes", {}) for c in listed}  # an object is graded per box drawn
    rows = [r for r in csv.reader((ROOT / "hard_case_grades.tsv").read_text().splitlines(), delimiter="\t")
            if r and not r[0].startswith("#")]
    header, rows = rows[0], rows[1:]
    assert header[:3] == ["case", "kind", "before"]
    for row in rows:
        assert row[0] in cases, row
        assert row[1] in KINDS or row[1].removeprefix("object: ") in boxes.get(row[0], {}), row
        assert all(g in "GOW" and len(g) == 1 for g in row[2:len(header) - 1]), row
