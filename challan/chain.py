"""The hash of one link of the audit log's chain (challan.audit): SHA-256 over a canonical JSON of
the entry's fields, its place in the chain and the hash of the link before. Plain values in, no
models, so that migration 0004 (which seals the entries written before it) hashes exactly as the
application does. The format is versioned ("v"); a new format would be a new version, and the old
one kept for the links written with it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

GENESIS = "0" * 64  # the "hash before" of the first link
VERSION = 1


def link_digest(
    *,
    seq: int,
    entry_id: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    reason: str | None,
    changes: Mapping,
    prev: str,
) -> str:
    """The hash of link `seq`, which seals audit entry `entry_id` and follows the link hashed `prev`.
    `changes` as read back from the database (JSON), `at` aware or naive UTC (SQLite returns naive)."""
    body = {
        "v": VERSION,
        "seq": seq,
        "id": entry_id,
        "at": _utc(at),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "reason": reason,
        "changes": changes,
        "prev": prev,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _utc(at: datetime) -> str:
    moment = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")
