"""Developer tools that are not part of the installed package: mask evaluation,
model conversion, the layering check.  Run from a checkout (``python -m tools.X``)."""
