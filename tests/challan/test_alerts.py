"""The alert checks on the real records (SQLite and PostgreSQL): hotlists, a plate seen at two sites
no vehicle could drive between in the time (cloned_plate), a vehicle unlike its registration
(registry_mismatch), a clear read of no Pakistani format at a Pakistani site (non_standard_plate);
each alert stored once, never changed, and listed as the JSON lines `anpr alerts list` prints."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from anpr.types import Candidate, Evidence, PlateRead, VehicleEvent
from challan import alerts, hotlists
from challan.alerts import Spotted, colour_conflict
from challan.crud import save_vehicle
from challan.models import VehicleCreate
from challan.sightings import distance_km, locate_site, record_sighting

SEEN = datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)  # 08:00 in Lahore
REGAL = (31.5656, 74.3142)  # Mall Road / Regal Chowk, Lahore
ZERO_POINT = (33.6938, 73.0652)  # Zero Point, Islamabad: 264 km away
MOZANG = (31.5580, 74.3150)  # under a kilometre from Regal Chowk
JSON_KEYS = [
    "id",
    "kind",
    "plate",
    "read",
    "match",
    "list",
    "reason",
    "site_id",
    "seen_at",
    "track_id",
    "evidence",
]


def event(
    plate: str = "LEB5789",
    *,
    site: str = "LHR-REGAL-01",
    track: int = 1,
    at: datetime = SEEN,
    vehicle_type: str = "car",
    colour: str | None = "red",
    confidence: float = 0.9,
) -> VehicleEvent:
    return VehicleEvent(
        site_id=site,
        track_id=track,
        vehicle_type=vehicle_type,
        first_seen=at - timedelta(seconds=2),
        last_seen=at + timedelta(seconds=3),
        plate=PlateRead(plate, confidence, (Candidate(plate, confidence),)) if plate else None,
        colour=colour,
    )


def spotted(*args, at: datetime = SEEN, region: str = "pk", printed: PlateRead | None = None, **kwargs):
    return Spotted(event(*args, at=at, **kwargs), at, region, printed)


def sites(session, **where: tuple[float, float]) -> None:
    for site_id, (lat, lon) in where.items():
        locate_site(session, site_id=site_id.replace("_", "-"), lat=lat, lon=lon)
    session.commit()


def raise_all(session, seen: Spotted) -> list:
    found = alerts.check(session, seen)
    stored = alerts.store(session, spotted=seen, raised=found)
    session.commit()
    return stored


def test_straight_line_distances():
    assert distance_km((0, 0), (1, 0)) == pytest.approx(111.195, abs=0.001)  # a degree of meridian
    assert distance_km((0, 0), (90, 0)) == pytest.approx(10007.5, abs=0.1)  # equator to pole
    assert distance_km(REGAL, ZERO_POINT) == pytest.approx(264, abs=1)
    assert distance_km(REGAL, MOZANG) < 1
    assert distance_km(REGAL, REGAL) == 0


@pytest.mark.parametrize(
    ("where", "apart", "expected"),
    [
        (ZERO_POINT, timedelta(minutes=30), "264 km away, 30 min apart (529 km/h): over 150 km/h"),
        (ZERO_POINT, timedelta(seconds=1), "264 km away, at once: over 150 km/h"),  # still in view there
        (ZERO_POINT, timedelta(hours=-2), None),  # 132 km/h: within reach
        (ZERO_POINT, timedelta(hours=-1), "264 km away, 60 min apart (264 km/h): over 150 km/h"),  # earlier
        (ZERO_POINT, timedelta(hours=3), None),  # 88 km/h: a fast drive, no clone
        (MOZANG, timedelta(seconds=10), None),  # next door: clocks may drift, one vehicle
        (None, timedelta(minutes=30), None),  # the second site has no coordinates
    ],
)
def test_a_plate_at_two_sites_too_far_apart_for_the_time_is_cloned(session, where, apart, expected):
    sites(session, LHR_REGAL_01=REGAL, **({"ISB_ZERO_01": where} if where else {}))
    record_sighting(session, event=event("LEB5789", track=7))  # seen 2 s before to 3 s after SEEN
    session.commit()

    found = alerts.check(session, spotted("LEB5789", site="ISB-ZERO-01", at=SEEN + apart))

    assert [(r.kind, r.plate, r.reason) for r in found] == (
        [("cloned_plate", "LEB5789", f"also seen at LHR-REGAL-01, {expected}")] if expected else []
    )
    if expected:
        details = found[0].details
        assert details["other_site_id"] == "LHR-REGAL-01" and details["other_track_id"] == 7
        assert details["distance_km"] == 264.0 and details["max_kmh"] == 150


def test_the_clone_speed_is_a_parameter(session):
    sites(session, LHR_REGAL_01=REGAL, ISB_ZERO_01=ZERO_POINT)
    record_sighting(session, event=event("LEB5789"))
    session.commit()
    later = spotted("LEB5789", site="ISB-ZERO-01", at=SEEN + timedelta(minutes=90))  # 176 km/h
    assert [r.kind for r in alerts.check(session, later, clone_kmh=150)] == ["cloned_plate"]
    assert alerts.check(session, later, clone_kmh=200) == []
    unread = spotted("", site="ISB-ZERO-01", at=SEEN + timedelta(minutes=5))
    assert alerts.check(session, unread) == []


@pytest.mark.parametrize(
    ("seen_type", "seen_colour", "expected"),
    [
        ("car", "red", "registered as motorcycle, seen as car; registered White, seen red"),
        ("motorcycle", "silver", None),  # white seen silver: light and shade
        ("motorcycle", "blue", "registered White, seen blue"),
        ("car", None, "registered as motorcycle, seen as car"),
        ("unknown", "white", None),
    ],
)
def test_a_vehicle_unlike_its_registration(session, seen_type, seen_colour, expected):
    save_vehicle(
        session,
        data=VehicleCreate(
            plate="LEB5789",
            vehicle_class="motorcycle",
            colour="White",
            owner_name="Ayesha Siddiqui",
            owner_cnic="35202-7654321-8",
        ),
        actor="test",
    )
    session.commit()

    found = alerts.check(session, spotted("LEB5789", vehicle_type=seen_type, colour=seen_colour))

    assert [(r.kind, r.plate, r.reason) for r in found] == (
        [("registry_mismatch", "LEB5789", expected)] if expected else []
    )
    if expected:
        assert found[0].details == {
            "registered": {"vehicle_class": "motorcycle", "colour": "White"},
            "seen": {"vehicle_type": seen_type, "colour": seen_colour},
        }


@pytest.mark.parametrize(
    ("seen", "registered", "conflict"),
    [
        ("red", "Maroon", False),
        ("orange", "red", False),  # next to each other on the wheel
        ("red", "blue", True),
        ("blue", "white", True),  # a hue seen: the body is painted
        ("white", "blue", False),  # a light body seen: a pale blue washes out
        ("black", "red", False),  # a dark body seen: shade
        ("white", "black", True),
        ("silver", "grey", False),
        ("red", "champagne", False),  # a name neither side knows
        (None, "red", False),
    ],
)
def test_colours_conflict_only_where_the_camera_can_be_trusted(seen, registered, conflict):
    assert colour_conflict(seen, registered) is conflict


@pytest.mark.parametrize(
    ("region", "printed", "expected"),
    [
        ("pk", PlateRead("AB12CDE", 0.86), "read AB12CDE (0.86) fits no Pakistani plate format"),
        ("pk", PlateRead("786", 0.95), "read 786 (0.95) fits no Pakistani plate format"),
        ("pk", PlateRead("AB12CDE", 0.3), None),  # not sure enough to call it an offence
        ("pk", PlateRead("LEH5789", 0.9), None),  # Punjab
        ("auto", PlateRead("AB12CDE", 0.86), None),  # not a Pakistani site
    ],
)
def test_a_clear_read_of_no_pakistani_format_at_a_pakistani_site(session, region, printed, expected):
    found = alerts.check(session, spotted("", region=region, printed=printed))
    assert [(r.kind, r.reason) for r in found] == ([("non_standard_plate", expected)] if expected else [])


def test_an_alert_is_stored_once_per_vehicle_and_listed_as_json_lines(session):
    hotlists.add_entry(session, plate="LEB5789", list_name="stolen", reason="stolen 19 Nov", actor="t")
    first = spotted("LE85789", track=3)
    picture = Evidence("plate_crop", "/srv/evidence/alerts/t3_plate.jpg", "ab" * 32)
    found = alerts.check(session, first)
    [stored] = alerts.store(session, spotted=first, raised=found, evidence=(picture,))
    session.commit()

    assert alerts.check(session, first) == []  # the same track again (a re-run)
    fragment = spotted("LE85789", track=9, at=SEEN + timedelta(seconds=20))  # the tracker split it
    assert alerts.check(session, fragment) == []
    back = spotted("LE85789", track=9, at=SEEN + timedelta(minutes=5))  # round the block and back
    assert len(raise_all(session, back)) == 1

    lines = [alerts.alert_json(a) for a in alerts.list_alerts(session)]
    assert [list(line) for line in lines] == [JSON_KEYS, JSON_KEYS]
    assert lines[0] == {
        "id": stored.id,
        "kind": "stolen",
        "plate": "LEB5789",
        "read": "LE85789",
        "match": "fuzzy",
        "list": "stolen",
        "reason": "stolen 19 Nov",
        "site_id": "LHR-REGAL-01",
        "seen_at": "2026-11-20T03:00:00Z",
        "track_id": 3,
        "evidence": [
            {"kind": "plate_crop", "path": "/srv/evidence/alerts/t3_plate.jpg", "sha256": "ab" * 32}
        ],
    }
    assert [a.id for a in alerts.list_alerts(session, after_id=stored.id)] == [lines[1]["id"]]
    assert alerts.list_alerts(session, kind="cloned_plate") == []
    assert [a.track_id for a in alerts.list_alerts(session, plate="leb-5789", limit=1)] == [3]
    assert [a.id for a in alerts.latest_alerts(session, limit=5)] == [lines[1]["id"], stored.id]


def test_alerts_are_never_changed_or_deleted(session):
    hotlists.add_entry(session, plate="LEB5789", list_name="stolen", reason="stolen", actor="t")
    raise_all(session, spotted("LEB5789"))
    for statement in ("UPDATE alerts SET reason = 'nothing'", "DELETE FROM alerts"):
        with pytest.raises(sa.exc.DatabaseError, match="refused"):
            session.exec(sa.text(statement))  # type: ignore[call-overload]
        session.rollback()
    assert [a.reason for a in alerts.list_alerts(session)] == ["stolen"]
