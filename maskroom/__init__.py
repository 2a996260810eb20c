"""maskroom: a photo catalog whose AI masks follow a series."""

__version__ = "0.1.0"
