"""Sync: carry one frame's edit to other frames, re-deriving AI masks on each."""
