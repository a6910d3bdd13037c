"""What a rule engine finds: the bridge between a vehicle event (from anpr/) and a pending
violation record. No numpy, no database: plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from anpr.types import Evidence


@dataclass(frozen=True)
class Finding:
    """A suspected violation, pending an officer's review.
    `details` holds the measurements the notice quotes, e.g. {"speed_kmh": 78.2, "limit_kmh": 60}
    or {"seconds_into_red": 2.4, "amber_seconds": 3.0}."""

    code: str  # OVER_SPEED | RED_LIGHT | WRONG_WAY | STOP_LINE | ...
    occurred_at: datetime
    details: dict = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
