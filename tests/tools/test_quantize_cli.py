"""tools/models/quantize.py rewrites a committed model: asking it for help, or a typo,
must print and stop, never quantise."""
from __future__ import annotations

import importlib.util

import pytest

from conftest import TESTS


def _tool():
    spec = importlib.util.spec_from_file_location("quantize_tool", TESTS.parent / "tools" / "models" / "quantize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv", [["--help"], ["--bogus"], ["--samples"]])
def test_help_and_typos_never_rewrite_the_model(argv, monkeypatch):
    tool = _tool()
    monkeypatch.setattr(tool, "quantize", lambda *a, **k: pytest.fail("the model would be rewritten"))
    with pytest.raises(SystemExit) as stop:
        tool.main(argv)
    assert stop.value.code == (0 if argv == ["--help"] else 2)


def test_samples_and_check_are_passed_on(monkeypatch, tmp_path):
    tool = _tool()
    calls = []
    monkeypatch.setattr(tool, "quantize", lambda samples: calls.append(("quantize", samples)))
    monkeypatch.setattr(tool, "check", lambda samples: calls.append(("check", samples)))
    tool.main(["--samples", str(tmp_path), "--check"])
    assert calls == [("quantize", tmp_path), ("check", tmp_path)]
