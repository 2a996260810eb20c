"""The bottom layer: what every other part of maskroom may import.

The edit model (``recipe``), configuration (``config``), progress reporting
(``progress``) and the error base (``errors``).  Nothing here imports catalog,
engine, services, ui or cli; docs/architecture.md and the import-linter contract
in pyproject.toml keep it so.
"""
