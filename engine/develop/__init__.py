"""The non-destructive develop engine: decode -> layered adjustments -> output space.

See docs/develop.md for the pipeline order, the adjustment ranges and the working
colour space (linear Rec.2020).
"""
