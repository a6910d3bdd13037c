"""The hub purges by itself: the web app's lifespan runs challan.retention's timer, so an event a
camera posted and its sighting and files go once the retention has passed (a hotlisted one stays
with its alert), and a camera's retry of a purged event is still answered as a duplicate, storing
nothing again. Real uvicorn, real SQLite and PostgreSQL records."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from challan import hotlists, retention
from challan.audit import verify_audit
from challan.db import get_engine
from challan.models import Alert, Event, Sighting
from challan.web.settings import PortalSettings
from tests.challan.web.ingest_support import add_camera, event_json, evidence_images, hub_server
from tests.challan.web.test_ingest import post


@pytest.fixture
def hub_settings(db_url, tmp_path) -> PortalSettings:
    return PortalSettings(
        database_url=db_url,
        evidence_dir=tmp_path / "hub-evidence",
        secret_key="a test secret key, long enough",
    )


def test_the_hub_purges_an_ingested_innocent_event_and_a_retry_stores_nothing_again(
    db_url, hub_settings, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(retention, "FIRST_AFTER_S", 0.1)
    monkeypatch.setattr(retention, "EVERY_S", 0.3)
    monkeypatch.setattr(retention, "FILE_GRACE", timedelta(0))  # the files were written just now
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-9")
    with Session(get_engine(db_url)) as session:
        hotlists.add_entry(session, plate="LEH5782", list_name="wanted", reason="robbery", actor="test")
        session.commit()
    # Seen on 20 Nov 2026, weeks before now: past the 72 h
    innocent_files, wanted_files = (
        evidence_images(tmp_path / "edge", 1),
        evidence_images(tmp_path / "edge", 2),
    )
    innocent, wanted = event_json(1, evidence=innocent_files), event_json(2, evidence=wanted_files)
    with hub_server(hub_settings) as base:
        first = post(base, key, innocent, innocent_files)
        assert post(base, key, wanted, wanted_files).status_code == 201
        stored = [hub_settings.evidence_dir / item["path"] for item in first.json()["evidence"]]
        deadline = time.monotonic() + 30
        while any(path.exists() for path in stored) and time.monotonic() < deadline:
            time.sleep(0.1)
        retry = post(base, key, innocent, innocent_files)
    assert first.status_code == 201 and not any(path.exists() for path in stored)
    assert retry.status_code == 200
    assert retry.json() == first.json() | {"duplicate": True, "evidence": []}
    with Session(get_engine(db_url)) as session:
        assert [s.track_id for s in session.exec(select(Sighting))] == [2]
        events = {e.track_id: e for e in session.exec(select(Event))}
        assert (events[1].plate_text, events[1].data["evidence"]) == ("", [])
        assert events[2].plate_text == "LEH5782" and len(events[2].data["evidence"]) == 2
        assert [(a.kind, a.track_id) for a in session.exec(select(Alert))] == [("wanted", 2)]
        assert verify_audit(session).intact
    assert all((hub_settings.evidence_dir / e["path"]).exists() for e in events[2].data["evidence"])


def test_purges_running_while_cameras_post_lose_nothing_an_alert_or_violation_needs(
    db_url, hub_settings, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(retention, "FIRST_AFTER_S", 0.0)
    monkeypatch.setattr(retention, "EVERY_S", 0.05)  # purging all the time
    monkeypatch.setattr(retention, "FILE_GRACE", timedelta(0))
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-10")
    tracks = range(1, 11)  # images differ from track to track up to 10 (evidence_images)
    with Session(get_engine(db_url)) as session:
        for track in tracks[::3]:
            hotlists.add_entry(
                session, plate=f"LEH{5780 + track}", list_name="stolen", reason="x", actor="test"
            )
        session.commit()
    posted = {}
    with hub_server(hub_settings) as base:
        for track in tracks:
            files = evidence_images(tmp_path / "edge", track)
            # every fourth over the limit (a violation); every third hotlisted (an alert)
            event = event_json(track, evidence=files, speed_kmh=91.0 if track % 4 == 0 else 40.0)
            answer = post(base, key, event, files)
            assert answer.status_code == 201, answer.text
            posted[track] = answer.json()
        time.sleep(0.5)  # a last purge or two after the posts
    needed = {t for t in tracks if t % 4 == 0 or t in tracks[::3]}
    with Session(get_engine(db_url)) as session:
        assert {s.track_id for s in session.exec(select(Sighting))} == needed
        events = {e.track_id: e for e in session.exec(select(Event))}
        assert {t for t, e in events.items() if e.plate_text} == needed
        assert {a.track_id for a in session.exec(select(Alert))} == set(tracks[::3])
        assert verify_audit(session).intact
    for track in tracks:
        files = [hub_settings.evidence_dir / item["path"] for item in posted[track]["evidence"]]
        assert all(path.exists() for path in files) == (track in needed), track
