"""Alerts: what a control room acts on, raised as soon as a vehicle's read settles (anpr.jobs.lookout
asks; the hub's ingest may too). Four checks, each on what the pipeline knows of the vehicle then
(`Spotted`):

- hotlists (challan.hotlists): the read, or a candidate above the floor, is a listed plate or a
  look-alike of one; the alert's kind is the list's name (stolen, wanted, defaulters ...);
- `cloned_plate`: the same plate was seen at another site that no vehicle could have driven from in
  the time between (straight-line distance over the time between the sightings above CLONE_KMH);
- `registry_mismatch`: the registry's vehicle class or colour for the plate is not what was seen;
- `non_standard_plate`: at a site of Pakistani plates, a plate read clearly that fits no Pakistani
  format (itself an offence in Punjab).

An alert is stored once: a re-run, or a second fragment of the same vehicle, raises nothing again."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, or_, select

from anpr.plates.unread import fits_layout
from anpr.types import Evidence, PlateRead, VehicleEvent
from challan import crud, hotlists
from challan.fines import offence_day
from challan.hotlists import CLONED_PLATE, NON_STANDARD_PLATE, REGISTRY_MISMATCH
from challan.models import Alert, Site
from challan.settings import get_settings
from challan.sightings import distance_km, elsewhere

HOTLISTS = "hotlists"  # the hotlist check (its alerts are named after their lists)
CHECKS = (HOTLISTS, CLONED_PLATE, REGISTRY_MISMATCH, NON_STANDARD_PLATE)
KINDS = (CLONED_PLATE, REGISTRY_MISMATCH, NON_STANDARD_PLATE)  # alert kinds that are no list

CLONE_KMH = 150.0  # faster than this between two sites, straight line: not one vehicle
# Two cameras this close may see one vehicle within their clocks' drift: no clone is inferred.
CLONE_MIN_KM = 2.0
CLONE_WINDOW = timedelta(hours=12)  # no road trip in Pakistan takes longer at CLONE_KMH
# A read must be this sure to call its plate non-standard: a misread is no offence.
NON_STANDARD_FLOOR = 0.5
# The same alert for the same plate at one site within this: one vehicle (a track the tracker split)
REPEAT_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class Spotted:
    """A vehicle as the pipeline knows it when its read settles, or when it leaves unsettled: the
    event so far (the plate voted under the site's grammar, type and colour voted so far), when it
    was read, the site's plate region, and the read voted under no region's grammar (a plate that
    fits none of the site's layouts is unread under them)."""

    event: VehicleEvent
    seen_at: datetime
    region: str = "auto"
    printed: PlateRead | None = None


@dataclass(frozen=True)
class Raised:
    """An alert before it is stored (the pipeline writes its evidence images in between)."""

    kind: str
    plate: str
    read: str
    reason: str
    match: str | None = None
    list_name: str | None = None
    details: dict = field(default_factory=dict)


def check(
    session: Session,
    spotted: Spotted,
    *,
    checks: Collection[str] = CHECKS,
    clone_kmh: float = CLONE_KMH,
) -> list[Raised]:
    """The alerts `spotted` raises that are not raised yet."""
    event = spotted.event
    raised: list[Raised] = []
    if HOTLISTS in checks:
        day = offence_day(spotted.seen_at, get_settings().timezone)
        read = event.plate.text if event.plate else ""
        raised += [
            Raised(hit.list_name, hit.plate, read, hit.reason, hit.match, hit.list_name)
            for hit in hotlists.hits(session, read=event.plate, day=day)
        ]
    if CLONED_PLATE in checks:
        raised += cloned(session, spotted, clone_kmh)
    if REGISTRY_MISMATCH in checks:
        raised += registry_mismatch(session, event)
    if NON_STANDARD_PLATE in checks:
        raised += non_standard(spotted)
    return [r for r in raised if not _already(session, spotted, r)]


def cloned(session: Session, spotted: Spotted, max_kmh: float = CLONE_KMH) -> list[Raised]:
    """The sighting elsewhere that is furthest out of reach of this one, if any is."""
    event, plate = spotted.event, spotted.event.plate
    here = session.get(Site, event.site_id)
    if plate is None or not plate.text or here is None or here.latitude is None or here.longitude is None:
        return []
    worst = None
    for other, site in elsewhere(
        session, plate=plate.text, site_id=event.site_id, around=spotted.seen_at, within=CLONE_WINDOW
    ):
        assert site.latitude is not None and site.longitude is not None  # elsewhere() asks for both
        km = distance_km((here.latitude, here.longitude), (site.latitude, site.longitude))
        gap_s = max(0.0, (other.first_seen - spotted.seen_at).total_seconds())
        gap_s = max(gap_s, (spotted.seen_at - other.last_seen).total_seconds())
        needed = km / (gap_s / 3600) if gap_s > 0 else float("inf")
        if km >= CLONE_MIN_KM and needed > max_kmh and (worst is None or needed > worst[0]):
            worst = (needed, km, gap_s, other)
    if worst is None:
        return []
    needed, km, gap_s, other = worst
    speed = "at once" if needed == float("inf") else f"{gap_s / 60:.0f} min apart ({needed:.0f} km/h)"
    reason = f"also seen at {other.site_id}, {km:.0f} km away, {speed}: over {max_kmh:.0f} km/h"
    details = {
        "other_site_id": other.site_id,
        "other_track_id": other.track_id,
        "other_seen": [other.first_seen.isoformat(), other.last_seen.isoformat()],
        "distance_km": round(km, 1),
        "seconds_apart": round(gap_s, 1),
        "needed_kmh": None if needed == float("inf") else round(needed),
        "max_kmh": max_kmh,
    }
    return [Raised(CLONED_PLATE, plate.text, plate.text, reason, details=details)]


def registry_mismatch(session: Session, event: VehicleEvent) -> list[Raised]:
    """The registry's class or colour for the plate read, where the camera saw otherwise."""
    plate = event.plate
    if plate is None or not plate.text:
        return []
    vehicle = crud.get_vehicle(session, plate=plate.text)
    if vehicle is None:
        return []
    problems = []
    if crud.class_conflict(event.vehicle_type, vehicle.vehicle_class):
        problems.append(f"registered as {vehicle.vehicle_class}, seen as {event.vehicle_type}")
    if colour_conflict(event.colour, vehicle.colour):
        problems.append(f"registered {vehicle.colour}, seen {event.colour}")
    if not problems:
        return []
    details = {
        "registered": {"vehicle_class": vehicle.vehicle_class, "colour": vehicle.colour},
        "seen": {"vehicle_type": event.vehicle_type, "colour": event.colour},
    }
    return [Raised(REGISTRY_MISMATCH, plate.text, plate.text, "; ".join(problems), details=details)]


def non_standard(spotted: Spotted) -> list[Raised]:
    """At a site of Pakistani plates, a clear read that fits no Pakistani layout."""
    printed = spotted.printed or spotted.event.plate
    if spotted.region != "pk" or printed is None or not printed.text:
        return []
    if printed.confidence < NON_STANDARD_FLOOR or fits_layout(printed.text, "pk"):
        return []
    reason = f"read {printed.text} ({printed.confidence:.2f}) fits no Pakistani plate format"
    return [Raised(NON_STANDARD_PLATE, printed.text, printed.text, reason)]


# Colours as the camera names them (anpr.track.vehicle_colour) and as a registry may: a hue, or light
# or dark. Hues next to each other on the wheel (a maroon car seen red, orange seen yellow) agree.
HUES = ("red", "orange", "yellow", "green", "blue", "purple")
COLOUR_NAMES = {
    **{hue: hue for hue in HUES},
    "maroon": "red",
    "burgundy": "red",
    "crimson": "red",
    "pink": "red",
    "brown": "orange",
    "gold": "yellow",
    "golden": "yellow",
    "beige": "yellow",
    "navy": "blue",
    "violet": "purple",
    "white": "white",
    "pearl": "white",
    "silver": "silver",
    "grey": "grey",
    "gray": "grey",
    "black": "black",
}


def colour_conflict(seen: str | None, registered: str | None) -> bool:
    """Whether the colour seen contradicts the registry's, in the ways the camera can be trusted on:
    a hue it saw (a saturated body) against another hue not next to it, or against a white, silver,
    grey or black registration; and white against black. A light or dark body seen against a hue is
    left alone (light and shade wash colours out). Names neither side knows conflict with nothing."""
    a = COLOUR_NAMES.get((seen or "").strip().lower())
    b = COLOUR_NAMES.get((registered or "").strip().lower())
    if a is None or b is None or a == b:
        return False
    if a in HUES and b in HUES:
        distance = abs(HUES.index(a) - HUES.index(b))
        return min(distance, len(HUES) - distance) > 1
    if a in HUES:
        return True
    return {a, b} == {"white", "black"}


def _already(session: Session, spotted: Spotted, raised: Raised) -> bool:
    """Whether this alert was raised for this track, or for this plate at this site just before or
    after (another fragment of the same vehicle)."""
    event = spotted.event
    query = select(Alert.id).where(
        Alert.kind == raised.kind,
        Alert.plate == raised.plate,
        Alert.site_id == event.site_id,
        or_(
            (col(Alert.track_id) == event.track_id) & (col(Alert.first_seen) == event.first_seen),
            (col(Alert.seen_at) >= spotted.seen_at - REPEAT_WINDOW)
            & (col(Alert.seen_at) <= spotted.seen_at + REPEAT_WINDOW),
        ),
    )
    return session.exec(query).first() is not None


def store(
    session: Session, *, spotted: Spotted, raised: Sequence[Raised], evidence: Sequence[Evidence] = ()
) -> list[Alert]:
    """Store the alerts (flushed, not committed), each with the evidence images."""
    event = spotted.event
    crud.ensure_site(session, site_id=event.site_id)
    alerts = [
        Alert(
            kind=r.kind,
            plate=r.plate,
            read_text=r.read,
            match_kind=r.match,
            list_name=r.list_name,
            reason=r.reason[:500],
            site_id=event.site_id,
            track_id=event.track_id,
            first_seen=event.first_seen,
            seen_at=spotted.seen_at,
            evidence=[asdict(e) for e in evidence],
            details=r.details,
        )
        for r in raised
    ]
    session.add_all(alerts)
    session.flush()
    return alerts


def list_alerts(
    session: Session,
    *,
    kind: str | None = None,
    plate: str | None = None,
    site_id: str | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[Alert]:
    """Oldest first; `after_id` gives only those raised after that one (to follow new alerts)."""
    query = select(Alert)
    if kind:
        query = query.where(Alert.kind == kind.strip().lower())
    if plate:
        query = query.where(Alert.plate == crud.normalize_plate(plate))
    if site_id:
        query = query.where(Alert.site_id == site_id)
    if after_id is not None:
        query = query.where(col(Alert.id) > after_id)
    query = query.order_by(col(Alert.id))
    return list(session.exec(query.limit(limit) if limit else query))


def latest_alerts(session: Session, *, limit: int) -> list[Alert]:
    """The `limit` alerts raised last, newest first."""
    return list(session.exec(select(Alert).order_by(col(Alert.id).desc()).limit(limit)))


def alert_json(alert: Alert) -> dict:
    """One line of `anpr alerts list --json` (and the webhook's body, and the officer page's event)."""
    return {
        "id": alert.id,
        "kind": alert.kind,
        "plate": alert.plate,
        "read": alert.read_text,
        "match": alert.match_kind,
        "list": alert.list_name,
        "reason": alert.reason,
        "site_id": alert.site_id,
        "seen_at": alert.seen_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "track_id": alert.track_id,
        "evidence": list(alert.evidence),
    }
