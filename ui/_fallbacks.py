"""A stand-in for ``maskroom.engine.sync`` while it is not installed (see services.sync).

It copies the chosen parts of the source recipe with ``catalog.edits`` and lets the
render re-derive AI components on each target's own pixels; targets where an AI mask
finds nothing are flagged for review.
"""
from __future__ import annotations

from maskroom.engine.recipe import Layer
from maskroom.progress import Progress


def sync(catalog, source_version_id, targets, what, progress: Progress):
    from maskroom.ui import services

    src = services.load_recipe(catalog, source_version_id)
    progress.start(len(targets), "Syncing")
    review = []
    for vid in targets:
        if progress.cancelled():
            break
        try:
            dst = services.load_recipe(catalog, vid)
            if what.get("global", True):
                dst.layers[0].adjustments = dict(src.layers[0].adjustments)
            if what.get("masks", True):
                dst.layers = [dst.layers[0]] + [Layer.from_dict(layer.to_dict()) for layer in src.layers[1:]]
                for layer in dst.layers[1:]:
                    for c in layer.mask.components:
                        c.derived = {}  # AI components re-derive on the target's pixels
            if what.get("crop", False) and "crop" in src.settings:
                dst.settings["crop"] = src.settings["crop"]
            services.save_recipe(catalog, vid, dst, "Sync settings")
            for layer in dst.layers[1:]:
                if any(c.is_ai for c in layer.mask.components):
                    a = services.mask_alpha(catalog, vid, layer.name, 512)
                    if float(a.max(initial=0)) < 0.05:
                        review.append({"version_id": vid, "layer": layer.name,
                                       "reason": "nothing found on this frame", "confidence": 0.0})
        except Exception as exc:  # noqa: BLE001 - one target failing never stops the rest
            review.append({"version_id": vid, "layer": "", "reason": f"sync failed: {exc}", "confidence": 0.0})
        finally:
            progress.advance(1, str(vid))
    return review
