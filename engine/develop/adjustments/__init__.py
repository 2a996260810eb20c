"""Adjustments, one small function each, registered with their ranges.

Importing this package registers them all (see ``base.REGISTRY``).
"""
from maskroom.engine.develop.adjustments import (  # noqa: F401  (registration)
    color,
    curves,
    detail,
    effects,
    finishing,
    grading,
    mixer,
    tone,
)
from maskroom.engine.develop.adjustments.base import PARAMETERS, REGISTRY, OpContext, clamp_value

__all__ = ["REGISTRY", "PARAMETERS", "OpContext", "clamp_value"]
