"""The alerts on the real records (SQLite and PostgreSQL): a hot-listed plate read is an alert,
stored once, never changed, and listed as the JSON lines `anpr alerts list` prints."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from anpr.types import Candidate, Evidence, PlateRead, VehicleEvent
from challan import alerts, hotlists
from challan.alerts import Spotted

SEEN = datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)  # 08:00 in Lahore
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


def raise_all(session, seen: Spotted) -> list:
    found = alerts.check(session, seen)
    stored = alerts.store(session, spotted=seen, raised=found)
    session.commit()
    return stored


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
