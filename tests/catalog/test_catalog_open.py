"""Which catalogs the command line opens, makes or refuses, each refusal one line."""
from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from maskroom.catalog import Catalog, CatalogError
from maskroom.cli import main


def cli(*args, env=None):
    return CliRunner().invoke(main, [*map(str, args)], env={"MASKROOM_CATALOG": None, **(env or {})})


def one_line_failure(res, *words):
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    for w in words:
        assert w in lines[0], lines[0]


def test_a_named_catalog_that_does_not_exist_is_an_error_not_a_new_one(tmp_path):
    path = tmp_path / "nonexistent" / "dir" / "cat.db"
    one_line_failure(cli("--catalog", path, "ls"), str(path), "maskroom catalog create")
    one_line_failure(cli("ls", env={"MASKROOM_CATALOG": str(path)}), "catalog create")
    one_line_failure(cli("--catalog", path, "catalog", "info"), "catalog create")
    assert not (tmp_path / "nonexistent").exists()  # no folders made either


def test_catalog_create_then_use(tmp_path):
    path = tmp_path / "shoots" / "cat.db"
    res = cli("catalog", "create", path)
    assert res.exit_code == 0, res.output
    assert f"created {path}" in res.output
    res = cli("--catalog", path, "ls")
    assert res.exit_code == 0, res.output
    one_line_failure(cli("catalog", "create", path), "exists already")
    res = cli("--catalog", tmp_path / "b.db", "catalog", "create")  # PATH from --catalog
    assert res.exit_code == 0 and (tmp_path / "b.db").exists(), res.output


def test_the_default_catalog_is_made_on_first_use(tmp_path):
    res = cli("ls", env={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert res.exit_code == 0, res.output
    assert (tmp_path / "data" / "maskroom" / "catalog.maskroom.sqlite").exists()


@pytest.mark.parametrize("url, words", [
    ("bogus://", ["bogus://", "not bogus"]),
    ("http://example.com/cat", ["SQLite file or on PostgreSQL", "not http"]),
    ("mysql://me@localhost/cat", ["not mysql"]),
    ("sqlite://", ["in-memory catalog keeps nothing"]),
])
def test_urls_that_cannot_hold_a_catalog(url, words):
    one_line_failure(cli("--catalog", url, "ls"), *words)
    one_line_failure(cli("ls", env={"MASKROOM_CATALOG": url}), *words)
    with pytest.raises(CatalogError):
        Catalog.open(url)


def test_postgres_without_its_driver(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    for url in ("postgresql+psycopg://me:secret@localhost/cat", "postgresql://me:secret@localhost/cat"):
        res = cli("--catalog", url, "ls")
        one_line_failure(res, "driver is not installed", "pip install")
        assert "secret" not in res.output
