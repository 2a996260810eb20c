"""Module-level per-item functions for tests/test_executor.py (workers import them by name)."""
from __future__ import annotations

import os

from sqlalchemy import func, select

from maskroom.catalog.schema import Image


def init_offset(ctx, offset: int) -> dict:
    return {"offset": offset, "pid": os.getpid(), "calls": 0}


def square_plus_offset(ctx, n: int) -> tuple:
    ctx.state["calls"] += 1  # per-worker state persists across items
    if n == 3:
        raise ValueError("three is bad")
    if n == 5:
        os._exit(9)  # the worker dies on this item
    return n * n + ctx.state["offset"], ctx.state["pid"], os.environ.get("OMP_NUM_THREADS")


def count_images(ctx, n: int) -> int:
    with ctx.catalog.session() as s:
        return s.scalar(select(func.count(Image.id))) + n
