"""Review flags: synced components a person should look at (nothing found, big jumps).

A flag is never silently accepted: it stays listed by ``maskroom review`` until
resolved.  Re-syncing does not duplicate a flag (same version, component, reason),
and a flag that no longer applies after a re-sync is removed if unresolved.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from maskroom.catalog.schema import EditVersion, Image, ReviewItem

# Thresholds for flags.
MIN_AREA = 1e-4  # below this fraction of the frame a mask is "nothing"
MIN_AREA_RATIO = 0.5  # target area vs the source mask moved onto the target
MIN_OVERLAP = 0.4  # IoU of target mask with the moved source mask
MIN_ALIGN_QUALITY = 0.05
MIN_PERSON_MATCH = 0.2


@dataclass
class Flag:
    layer_name: str
    component_uid: str
    reason: str
    confidence: float


def replace_flags(session, version_id: int, source_version_id: int | None, flags: list[Flag],
                  component_uids: set[str]) -> int:
    """Make the unresolved flags of the synced components exactly ``flags``; returns rows added.

    Only components synced this time (``component_uids``) are touched: a sync of one
    layer keeps the flags of the others.
    """
    rows = list(session.scalars(select(ReviewItem).where(ReviewItem.version_id == version_id)))
    wanted = {(f.component_uid, f.reason) for f in flags}
    for r in rows:
        if (not r.resolved and r.source_version_id == source_version_id and r.component_uid in component_uids
                and (r.component_uid, r.reason) not in wanted):
            session.delete(r)
    have = {(r.component_uid, r.reason) for r in rows}
    added = 0
    for f in flags:
        if (f.component_uid, f.reason) in have:
            continue
        session.add(ReviewItem(version_id=version_id, source_version_id=source_version_id, layer_name=f.layer_name,
                               component_uid=f.component_uid, reason=f.reason, confidence=round(f.confidence, 4)))
        added += 1
    return added


def record_mask_warnings(catalog, version_id: int, layer_name: str, uids: set[str],
                         warnings: list[tuple[str, str, float | None, str]]) -> int:
    """Review entries for AI components derived outside a sync (mask add/render/refresh):
    each (uid, kind, confidence, reason) of ``warnings`` becomes a flag of ``layer_name``;
    a component of ``uids`` that now derives without a warning loses its old one."""
    flags = [Flag(layer_name, uid, f"{kind}: {reason}", 0.0 if conf is None else conf)
             for uid, kind, conf, reason in warnings if uid in uids]
    with catalog.session() as s:
        return replace_flags(s, version_id, None, flags, uids)


def list_items(catalog, *, include_resolved: bool = False) -> list[dict]:
    with catalog.session() as s:
        q = (select(ReviewItem, EditVersion.image_id, Image.filename)
             .join(EditVersion, EditVersion.id == ReviewItem.version_id)
             .join(Image, Image.id == EditVersion.image_id).order_by(ReviewItem.id))
        if not include_resolved:
            q = q.where(ReviewItem.resolved.is_(False))
        return [{"id": r.id, "image_id": image_id, "filename": fn, "version_id": r.version_id,
                 "source_version_id": r.source_version_id, "layer": r.layer_name, "component_uid": r.component_uid,
                 "reason": r.reason, "confidence": r.confidence, "resolved": r.resolved}
                for r, image_id, fn in s.execute(q)]


def resolve(catalog, item_id: int) -> None:
    with catalog.session() as s:
        row = s.get(ReviewItem, int(item_id))
        if row is None:
            raise LookupError(f"review item {item_id} does not exist")
        row.resolved = True
