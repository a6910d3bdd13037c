"""Tip-offs (POST /api/v1/ingest/sightings): an edge box with no database (`anpr watch --hub`) posts
each read the moment it settles, so that the hub raises its alerts while the vehicle is still in
view, not once it has left and its event arrives. On a real uvicorn server over SQLite and
PostgreSQL: the tip-off raises the hotlist alert with its images, a retry raises nothing, the event
that follows is recorded and raises nothing twice; a tip-off from another site's key is refused and
records nothing. The edge's side (anpr.jobs.uplink.Tipoff) posts through its own thread."""

from __future__ import annotations

import time

import httpx

from anpr.jobs.uplink import HubTarget, Tipoff
from tests.challan.web.ingest_support import add_camera, event_json, evidence_images, hub_server
from tests.challan.web.test_ingest import counts, post
from tests.challan.web.test_ingest_alerts import hub_settings, listed, receiver, stored_alerts, wait_for  # noqa: F401

SIGHTINGS = "/api/v1/ingest/sightings"


def tip_off(base: str, key: str, event: dict, files: list) -> httpx.Response:
    """The read as anpr.jobs.uplink.Tipoff posts it: the event's JSON and the images so far."""
    return post(base, key, event, files, path=SIGHTINGS)


def test_a_tip_off_raises_the_alert_at_once_and_its_event_raises_nothing_twice(
    db_url,
    hub_settings,  # noqa: F811
    tmp_path,
    receiver,  # noqa: F811
    capsys,
    monkeypatch,
):
    _, received, _ = receiver
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-7")
    listed(db_url, "LEH5787")
    files = evidence_images(tmp_path / "edge", 7)
    event = event_json(7, evidence=files)  # LEH5787, a hotlisted plate
    before = counts(db_url)
    with hub_server(hub_settings) as base:
        started = time.perf_counter()
        first = tip_off(base, key, event, files)
        answered = time.perf_counter() - started
        again = tip_off(base, key, event, files)
        after_tip = counts(db_url)
        final = post(base, key, event, files)
        wait_for(received, 1)
        time.sleep(0.3)  # time for a second delivery, were there one
    assert (first.status_code, again.status_code, final.status_code) == (201, 200, 201)
    [alert] = stored_alerts(db_url)
    assert first.json()["alerts"] == [received[0]] and again.json() == {"alerts": []}
    assert (alert.kind, alert.plate, alert.track_id) == ("stolen", "LEH5787", 7)
    assert [e["sha256"] for e in alert.evidence] == [e["sha256"] for e in event["evidence"]]
    for item in alert.evidence:
        assert (hub_settings.evidence_dir / item["path"]).is_file()
    assert after_tip == before  # a tip-off records no event, sighting, receipt or audit entry
    assert counts(db_url)["events"] == before["events"] + 1  # the event that followed
    assert len(received) == 1
    assert answered < 5.0  # the alert is stored before the answer (timing proper: docs/hub.md)
    print(f"tip-off to alert stored: {answered * 1000:.0f} ms")


def test_a_tip_off_from_another_sites_key_is_refused(db_url, hub_settings, tmp_path, capsys, monkeypatch):  # noqa: F811
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-8")
    listed(db_url, "LEH5788")
    event = event_json(8, site_id="LHR-CANAL-02")
    with hub_server(hub_settings) as base:
        refused = httpx.post(base + SIGHTINGS, headers={"X-API-Key": key}, json=event)
        unkeyed = httpx.post(base + SIGHTINGS, json=event)
    assert (refused.status_code, unkeyed.status_code) == (403, 401)
    assert stored_alerts(db_url) == []


def test_the_edge_posts_a_settled_read_from_its_own_thread(
    db_url,
    hub_settings,  # noqa: F811
    tmp_path,
    capsys,
    monkeypatch,
):
    """anpr.jobs.uplink.Tipoff as `anpr watch --hub` attaches it to a camera's processor: the read
    that settles is posted with the images written for it, the hub stores its alert, and the edge
    deletes those images once posted (the hub has them; written for every read, they would fill the
    box's disk). Images the tip-off did not write are left alone."""
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-9")
    listed(db_url, "LEH5789")
    written = evidence_images(tmp_path / "edge-out" / "alerts", 9)  # as settled_images writes them
    others = evidence_images(tmp_path / "edge", 10)
    with hub_server(hub_settings) as base:
        target = HubTarget(url=base, redis_url="redis://unused", spool=tmp_path / "spool")
        tipoff = Tipoff(target, key, site=None, evidence_dir=tmp_path / "edge-out")
        # as on_settled queues a read (the real one, on a real clip: test_watch_hub)
        tipoff._queue.put((time.perf_counter(), event_json(9, evidence=written)))
        tipoff._queue.put((time.perf_counter(), event_json(10, evidence=others)))
        deadline = time.monotonic() + 20
        while tipoff.posted + tipoff.failed < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        tipoff.close()
    [alert] = stored_alerts(db_url)
    assert (alert.plate, alert.track_id) == ("LEH5789", 9)
    assert (tipoff.posted, tipoff.failed) == (2, 0) and tipoff.latencies[0] < 20
    assert len(alert.evidence) == 2  # the hub's copies of the images the edge has let go
    for item in alert.evidence:
        assert (hub_settings.evidence_dir / item["path"]).is_file()
    assert not any(path.exists() for path in written) and all(path.exists() for path in others)
