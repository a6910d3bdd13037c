"""Sightings: every vehicle a camera followed, stored once as its event closes (the hub looks back on
them: the same plate at two sites, challan.alerts), and where each site is (its coordinates, from
the site file, in the sites table)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from anpr.types import Evidence, VehicleEvent
from challan.audit import log_change
from challan.crud import PIPELINE, ensure_site
from challan.models import Sighting, Site

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def record_sighting(
    session: Session, *, event: VehicleEvent, evidence: Sequence[Evidence] = ()
) -> tuple[Sighting, bool]:
    """Store the event as a sighting once (site, track and first_seen are its key), with the event's
    evidence and `evidence` (an alert's images) besides. Returns the row and whether it is new."""
    site = ensure_site(session, site_id=event.site_id)
    stored = session.exec(
        select(Sighting).where(
            Sighting.site_id == site.id,
            Sighting.track_id == event.track_id,
            Sighting.first_seen == event.first_seen,
        )
    ).first()
    if stored is not None:
        return stored, False
    plate = event.plate
    files = {(e.kind, e.sha256): asdict(e) for e in (*event.evidence, *evidence)}
    stored = Sighting(
        site_id=site.id,
        track_id=event.track_id,
        first_seen=event.first_seen,
        last_seen=event.last_seen,
        plate_text=plate.text if plate else "",
        plate_year=plate.year if plate else None,
        plate_confidence=round(plate.confidence, 4) if plate else 0.0,
        plate_candidates=[{"text": c.text, "confidence": round(c.confidence, 4)} for c in plate.candidates]
        if plate
        else [],
        vehicle_type=event.vehicle_type,
        colour=event.colour,
        speed_kmh=round(event.speed_kmh, 1) if event.speed_kmh is not None else None,
        evidence=list(files.values()),
    )
    session.add(stored)
    session.flush()
    return stored, True


def locate_site(session: Session, *, site_id: str, lat: float, lon: float, actor: str = PIPELINE) -> bool:
    """Record where a site is (from its site file); returns whether that changed anything. A move is
    written to the audit log (an alert's distances depend on it)."""
    site = ensure_site(session, site_id=site_id, actor=actor)
    if (site.latitude, site.longitude) == (lat, lon):
        return False
    log_change(
        session,
        actor=actor,
        action="locate",
        entity="sites",
        entity_id=site_id,
        changes={"latitude": [site.latitude, lat], "longitude": [site.longitude, lon]},
    )
    site.latitude, site.longitude = lat, lon
    session.flush()
    return True


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (straight-line on the ground) distance between two (lat, lon) points, haversine."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def elsewhere(
    session: Session, *, plate: str, site_id: str, around: datetime, within: timedelta
) -> list[tuple[Sighting, Site]]:
    """Sightings of `plate` at other sites with known coordinates, within `within` of `around`."""
    query = (
        select(Sighting, Site)
        .join(Site, col(Site.id) == col(Sighting.site_id))
        .where(
            Sighting.plate_text == plate,
            Sighting.site_id != site_id,
            col(Site.latitude).is_not(None),
            col(Site.longitude).is_not(None),
            col(Sighting.first_seen) >= around - within,
            col(Sighting.first_seen) <= around + within,
        )
        .order_by(col(Sighting.first_seen))
    )
    return [(sighting, site) for sighting, site in session.exec(query)]
