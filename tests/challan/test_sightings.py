"""Sightings on the real records (SQLite and PostgreSQL): every vehicle stored once whatever the
retries, with what the hub needs of it; where each site is, moves audited; sightings may be purged
(unlike events)."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from anpr.types import Candidate, Evidence, PlateRead, VehicleEvent
from challan.models import AuditEntry, Sighting, Site
from challan.sightings import elsewhere, locate_site, record_sighting

SEEN = datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)
SCENE = Evidence("scene_at", "/srv/evidence/t4_scene_at.jpg", "1" * 64)
CROP = Evidence("plate_crop", "/srv/evidence/alerts/t4_plate.jpg", "2" * 64)


def event(track: int = 4, site: str = "LHR-REGAL-01", plate: str = "XHN9020", at: datetime = SEEN):
    return VehicleEvent(
        site_id=site,
        track_id=track,
        vehicle_type="car",
        first_seen=at,
        last_seen=at + timedelta(seconds=4.2),
        plate=PlateRead(plate, 0.45123, (Candidate(plate, 0.45123), Candidate("XHN9029", 0.022))),
        colour="blue",
        speed_kmh=84.94,
        evidence=(SCENE,),
    )


def test_a_vehicle_is_one_sighting_whatever_the_retries(session):
    first, new = record_sighting(session, event=event(), evidence=(CROP, SCENE))
    session.commit()
    again, new_again = record_sighting(session, event=event(), evidence=(CROP,))
    session.commit()

    assert (new, new_again, again.id) == (True, False, first.id)
    [row] = session.exec(select(Sighting)).all()
    assert (row.site_id, row.track_id, row.first_seen, row.last_seen) == (
        "LHR-REGAL-01",
        4,
        SEEN,
        SEEN + timedelta(seconds=4.2),
    )
    assert (row.plate_text, row.plate_confidence, row.vehicle_type, row.colour, row.speed_kmh) == (
        "XHN9020",
        0.4512,
        "car",
        "blue",
        84.9,
    )
    assert row.plate_candidates == [
        {"text": "XHN9020", "confidence": 0.4512},
        {"text": "XHN9029", "confidence": 0.022},
    ]
    assert row.evidence == [  # the event's own, then the alert's; each file once
        {"kind": "scene_at", "path": SCENE.path, "sha256": SCENE.sha256},
        {"kind": "plate_crop", "path": CROP.path, "sha256": CROP.sha256},
    ]
    assert session.get(Site, "LHR-REGAL-01") is not None  # the site is made on its first sighting


def test_sightings_may_be_purged(session):
    record_sighting(session, event=event())
    session.commit()
    session.exec(sa.text("DELETE FROM sightings"))  # type: ignore[call-overload]
    session.commit()
    assert session.exec(select(Sighting)).all() == []


def test_where_a_site_is_is_stored_and_a_move_audited(session):
    assert locate_site(session, site_id="LHR-REGAL-01", lat=31.5656, lon=74.3142) is True
    assert locate_site(session, site_id="LHR-REGAL-01", lat=31.5656, lon=74.3142) is False
    assert locate_site(session, site_id="LHR-REGAL-01", lat=31.5657, lon=74.3142) is True
    session.commit()

    site = session.get(Site, "LHR-REGAL-01")
    assert (site.latitude, site.longitude) == (31.5657, 74.3142)
    moves = session.exec(select(AuditEntry).where(AuditEntry.action == "locate")).all()
    assert [m.changes for m in moves] == [
        {"latitude": [None, 31.5656], "longitude": [None, 74.3142]},
        {"latitude": [31.5656, 31.5657], "longitude": [74.3142, 74.3142]},
    ]


def test_sightings_elsewhere_are_those_of_the_plate_at_located_sites_in_the_window(session):
    locate_site(session, site_id="LHR-REGAL-01", lat=31.5656, lon=74.3142)
    locate_site(session, site_id="ISB-ZERO-01", lat=33.6938, lon=73.0652)
    record_sighting(session, event=event(track=1))
    record_sighting(session, event=event(track=2, site="ISB-ZERO-01", at=SEEN + timedelta(hours=1)))
    record_sighting(session, event=event(track=3, site="ISB-ZERO-01", at=SEEN + timedelta(hours=13)))
    record_sighting(session, event=event(track=4, site="ISB-ZERO-01", plate="QDM5026"))
    record_sighting(session, event=event(track=5, site="MUL-NEW-01"))  # a site with no coordinates
    session.commit()

    found = elsewhere(
        session, plate="XHN9020", site_id="LHR-REGAL-01", around=SEEN, within=timedelta(hours=12)
    )

    assert [(s.site_id, s.track_id, site.latitude) for s, site in found] == [("ISB-ZERO-01", 2, 33.6938)]
