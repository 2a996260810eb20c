"""Several processes editing one photo at once: no acknowledged step is ever lost.

Each worker process runs the real `maskroom edit` command (in-process click) in a
loop, all starting together at a barrier; afterwards every step a worker was told
about must be in the history, numbered without gaps, in the order that worker made
them, and the current edit must hold every worker's last value.
"""
from __future__ import annotations

import re

import pytest
from concurrency import run_concurrently
from develop_support import add_image

from maskroom.catalog import edits
from maskroom.catalog.schema import Image

pytestmark = pytest.mark.catalog

KEYS = ("exposure", "contrast", "highlights", "shadows", "whites", "blacks")
ROUNDS = 5
STEP = re.compile(r"^image (\d+) \(version (\d+)\): step (\d+) (.*)$")


def run_concurrent_edits(catalog, image_id: int, keys=KEYS, rounds: int = ROUNDS) -> dict[str, list[tuple[int, str]]]:
    """One process per key, each `maskroom edit` ROUNDS times; returns {key: acknowledged (step, label)}."""
    results = run_concurrently(catalog, [[["edit", image_id, "--set", f"{k}={n}"] for n in range(1, rounds + 1)]
                                         for k in keys])
    acked = {}
    for key, runs in zip(keys, results):
        acked[key] = []
        for n, (code, output) in enumerate(runs, 1):
            assert code == 0, f"{key} round {n}: exit {code}: {output}"
            m = STEP.match(output.strip().splitlines()[-1])
            acked[key].append((int(m.group(3)), m.group(4)))
    return acked


def test_concurrent_edit_processes_lose_no_step(catalog, samples_dir):
    image_id = add_image(catalog, samples_dir / "immich_el_torcal_rocks.jpg")
    with catalog.session() as s:
        vid = edits.get_version(s, image_id).id  # the master exists before the race
    acked = run_concurrent_edits(catalog, image_id)
    with catalog.session() as s:
        steps = [(h.seq, h.label) for h in edits.history(s, vid)]
        position = edits.get_version(s, image_id).history_position
        current = edits.load_recipe(s, vid).global_layer.adjustments
        assert s.get(Image, image_id) is not None
    total = len(KEYS) * ROUNDS
    assert [seq for seq, _ in steps] == list(range(total + 1)), "history numbering has gaps or repeats"
    assert position == total
    history = dict(steps)
    for key, got in acked.items():
        assert [label for _, label in got] == [f"{key} +{n}" for n in range(1, ROUNDS + 1)]
        for seq, label in got:
            assert history.get(seq) == label, f"acknowledged step {seq} {label!r} is not in the history"
        assert [seq for seq, _ in got] == sorted(seq for seq, _ in got), f"{key}: steps out of order"
    # Every writer's last value survives in the current edit (nobody overwrote another's change).
    assert current == {k: float(ROUNDS) for k in KEYS}
