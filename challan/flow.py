"""Traffic flow from the sightings (every vehicle a camera followed): per site and interval, the
vehicles by class, the mean and 85th-percentile speed, and the flow per hour. What a traffic
engineer reads off a count station, from the cameras already there."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import fmean

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
            round(fmean(speeds), 1) if speeds else None,
            round(percentile(speeds, 85), 1) if speeds else None,
        )


@dataclass(frozen=True)
class SpeedSpread:
    """How fast the vehicles at a site went: counts per band of `width_kmh` from 0, the last band open
    ("150 and above"), and the mean and 85th percentile over every measured vehicle."""

    bands: list[tuple[int, int | None, int]]  # from km/h, to km/h (None: and above), vehicles
    measured: int
    mean_kmh: float | None
    p85_kmh: float | None


def speed_spread(
    session: Session,
    *,
    site_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    width_kmh: int = 10,
    top_kmh: int = 150,
) -> SpeedSpread:
    """The speeds measured at a site (vehicles first seen from `since` to before `until`) in bands;
    the bands run from 0 to the fastest band seen, at most to `top_kmh` and above."""
    query = select(Sighting.speed_kmh).where(
        Sighting.site_id == site_id, col(Sighting.speed_kmh).is_not(None)
    )
    if since:
        query = query.where(col(Sighting.first_seen) >= since)
    if until:
        query = query.where(col(Sighting.first_seen) < until)
    speeds = [float(s) for s in session.exec(query) if s is not None]
    if not speeds:
        return SpeedSpread([], 0, None, None)
    last = top_kmh // width_kmh  # the open band's index
    counts = Counter(min(int(max(s, 0.0) // width_kmh), last) for s in speeds)
    bands = [
        (i * width_kmh, None if i == last else (i + 1) * width_kmh, counts[i]) for i in range(max(counts) + 1)
    ]
    return SpeedSpread(bands, len(speeds), round(fmean(speeds), 1), round(percentile(speeds, 85), 1))


def percentile(values: list[float], share: float) -> float:
    """The `share`-th percentile, interpolated between the two nearest values (NumPy's default,
    "linear"); the portal does without NumPy."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * share / 100
    below = int(at)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (at - below)
