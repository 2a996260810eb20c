"""Mask engine: component kinds (geometric, range, AI), their composition and caching."""
