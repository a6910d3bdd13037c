"""Each live camera's health as `anpr watch` writes it (one JSON file per camera, replaced once a
second) and as `anpr cameras status` and the officers' cameras page read it. Standard library only:
the portal imports this, and must not load the vision stack."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

SILENT_AFTER_S = 10.0  # a running camera whose health is older than this is shown "silent"


@dataclass
class Health:
    camera: str
    site_id: str = ""
    status: str = "starting"  # starting, running, reconnecting, stopped
    started_at: str = ""
    last_frame_at: str | None = None
    frames: int = 0
    fps: float = 0.0  # frames processed a second, over the last 10 s
    lag_s: float = 0.0  # how far behind the camera the pipeline is
    dropped: int = 0  # frames thinned out while the pipeline caught up
    reconnects: int = 0
    vehicles: int = 0
    violations: int = 0
    error: str | None = None
    # Sent to a hub (anpr watch --hub) instead of recorded: the camera's outbox (anpr.jobs.uplink)
    queued: int | None = None  # events waiting in the outbox for the hub; None: recorded locally
    queued_since: str | None = None  # when the oldest of them was queued
    sent: int = 0  # events the hub has taken (stored, or stored before)
    rejected: int = 0  # events the hub refused, set aside in the outbox's rejected stream
    hub_error: str | None = None  # why the hub is not taking events now
    pid: int = field(default_factory=os.getpid)
    updated_at: str = ""

    def write(self, folder: Path) -> None:
        self.updated_at = now_iso()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{self.camera}.json"
        partial = target.with_suffix(".json.partial")
        partial.write_text(json.dumps(asdict(self)))
        os.replace(partial, target)


def read_health(folder: Path, now: datetime | None = None) -> list[dict]:
    """Every camera's last health record in `folder`, by camera id; a camera not stopped whose
    record is older than SILENT_AFTER_S is "silent" (its process hung, or its machine is gone).
    `queued_age_s`: how long the oldest event in a hub camera's outbox has waited, as of `now`."""
    now = now or datetime.now(UTC)
    records = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # being replaced this instant: the next look has it
        age = (now - datetime.fromisoformat(record["updated_at"])).total_seconds()
        if age > SILENT_AFTER_S and record["status"] != "stopped":
            record["status"] = "silent"
        since = record.get("queued_since")
        waited = (now - datetime.fromisoformat(since)).total_seconds() if since else None
        record["queued_age_s"] = None if waited is None else round(max(waited, 0.0), 1)
        records.append(record)
    return records


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
