"""Traffic flow from the sightings (every vehicle a camera followed): per site and interval, the
vehicles by class, the mean and 85th-percentile speed, and the flow per hour. What a traffic
engineer reads off a count station, from the cameras already there."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlmodel import Session, col, select

from anpr.errors import InputError
from challan.models import Sighting

_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|min|h)?\s*$")


def parse_interval(text: str) -> timedelta:
    """'15m', '1h', '900s', '30' (minutes): at least a minute, at most a day."""
    match = _INTERVAL.match(text.lower())
    if not match:
        raise InputError(f"interval {text!r}: give minutes or hours, like 15m or 1h")
    amount, unit = int(match.group(1)), match.group(2) or "m"
    seconds = amount * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]
    if not 60 <= seconds <= 86400:
        raise InputError(f"interval {text!r}: between 1 minute and 24 hours")
    return timedelta(seconds=seconds)


@dataclass
class FlowRow:
    site_id: str
    start: datetime
    end: datetime
    vehicles: int = 0
    by_class: dict[str, int] = field(default_factory=dict)
    mean_kmh: float | None = None
    p85_kmh: float | None = None

    @property
    def per_hour(self) -> float:
        return round(self.vehicles * 3600 / (self.end - self.start).total_seconds(), 1)

    def to_json(self) -> dict:
        return {
            "site_id": self.site_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "vehicles": self.vehicles,
            "by_class": self.by_class,
            "mean_kmh": self.mean_kmh,
            "p85_kmh": self.p85_kmh,
            "per_hour": self.per_hour,
        }


def flow(
    session: Session,
    *,
    interval: timedelta = timedelta(minutes=15),
    site_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[FlowRow]:
    """One row per site and interval that saw a vehicle, in site then time order. Intervals are
    aligned to the clock (15 minutes: :00, :15, ...), in UTC; a vehicle counts in the interval it was
    first seen in. Speeds are over the vehicles that have one (ground plane or radar)."""
    query = select(Sighting.site_id, Sighting.first_seen, Sighting.vehicle_type, Sighting.speed_kmh)
    if site_id:
        query = query.where(Sighting.site_id == site_id)
    if since:
        query = query.where(col(Sighting.first_seen) >= since)
    if until:
        query = query.where(col(Sighting.first_seen) < until)
    buckets: dict[tuple[str, datetime], tuple[Counter, list[float]]] = defaultdict(lambda: (Counter(), []))
    step = interval.total_seconds()
    for site, seen, vehicle_type, speed in session.exec(
        query.order_by(col(Sighting.site_id), col(Sighting.first_seen))
    ):
        moment = seen if seen.tzinfo else seen.replace(tzinfo=UTC)
        start = datetime.fromtimestamp(moment.timestamp() // step * step, UTC)
        classes, speeds = buckets[(site, start)]
        classes[vehicle_type] += 1
        if speed is not None:
            speeds.append(float(speed))
    for (site, start), (classes, speeds) in sorted(buckets.items()):
        yield FlowRow(
            site,
            start,
            start + interval,
            sum(classes.values()),
            dict(sorted(classes.items())),
            round(float(np.mean(speeds)), 1) if speeds else None,
            round(float(np.percentile(speeds, 85)), 1) if speeds else None,
        )
