"""Alembic migrations of the catalog (run automatically when a catalog is opened)."""
