"""The catalog: tables, opening/upgrading, queries and consistency checks."""
from maskroom.catalog.database import Catalog, CatalogError

__all__ = ["Catalog", "CatalogError"]
