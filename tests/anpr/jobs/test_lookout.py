"""The hub's eye on a footage job, without the models: a read settling on a hot-listed plate is an
alert stored at once, with images whose SHA-256 checks, and POSTed to a real local webhook; every
closed vehicle is one sighting whatever the retries, and one whose read never settled is checked
as it closes. The whole chain on a real clip is in test_hotlist_run.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, select

from anpr.jobs.footage import Recorder
from anpr.jobs.lookout import Lookout
from anpr.process import JudgedEvent, VideoProcessor
from anpr.site import load_site
from anpr.tracks import Track
from anpr.types import Candidate, PlateRead, VehicleEvent
from anpr.vote import vote_plate
from anpr.weights import PROJECT_ROOT
from challan import alerts, evidence, hotlists
from challan.db import get_engine, init_db
from challan.models import Event, Sighting, Site
from challan.webhook import Webhook
from tests.challan import conftest as challan_fixtures
from tests.challan.test_webhook import Receiver

SAMPLES = PROJECT_ROOT / "sample_videos"
db_url = challan_fixtures.db_url  # the records on SQLite and PostgreSQL


@pytest.fixture
def site(tmp_path):
    """The regal-chowk site file, placed on the map."""
    text = (
        (SAMPLES / "regal-chowk.yaml")
        .read_text()
        .replace("plate_region: pk}", "plate_region: pk, location: {lat: 31.5656, lon: 74.3142}}")
    )
    (tmp_path / "regal-chowk.yaml").write_text(text)
    (tmp_path / "regal-chowk.signal.csv").write_text((SAMPLES / "regal-chowk.signal.csv").read_text())
    return load_site(tmp_path / "regal-chowk.yaml")


@pytest.fixture
def records(db_url):
    init_db(db_url)
    with Session(get_engine(db_url)) as session:
        hotlists.add_entry(session, plate="QDM5026", list_name="stolen", reason="stolen 19 Nov", actor="t")
        hotlists.add_entry(session, plate="AWO138", list_name="wanted", reason="robbery", actor="t")
        session.commit()
    return db_url


def track(track_id: int = 2, text: str = "QDM5026") -> Track:
    """A car driving down the picture, read twice, its best frame kept."""
    rng = np.random.default_rng(track_id)
    image = rng.integers(0, 255, (1440, 2560, 3), dtype=np.uint8)
    t = Track(track_id)
    for i in range(8):
        t.frames.append(i)
        t.times.append(i / 10)
        t.boxes.append(np.array([1000.0, 500 + 20 * i, 1300.0, 700 + 25 * i]))
        t.clipped.append(False)
        t.types.append("car")
        t.confidences.append(0.9)
        t.colours.append("red")
    t.reads += [
        PlateRead(text, 0.95, (Candidate(text, 0.95),)),
        PlateRead(text, 0.93, (Candidate(text, 0.93),)),
    ]
    t.crops[text] = (0.95, image[600:660, 1100:1220].copy())
    t.keyframes.frames["scene_at"] = (5, image, tuple(t.boxes[5]))
    t.last_image = image
    return t


def lookout_on(site, url: str, tmp_path: Path, webhook=None) -> tuple[Lookout, VideoProcessor]:
    processor = VideoProcessor(site)  # not run: the lookout asks it for the event so far
    processor.fps = 10.0
    lookout = Lookout(url, site, tmp_path / "out" / "evidence", webhook)
    lookout.attach(processor)
    lookout.start()
    return lookout, processor


def test_a_settled_read_on_a_listed_plate_is_an_alert_at_once(site, records, tmp_path):
    receiver = Receiver()
    try:
        lookout, processor = lookout_on(site, records, tmp_path, Webhook(receiver.url))
        car = track()

        assert processor.on_settled is not None
        processor.on_settled(car, vote_plate(car.reads, "pk"), 1.4)

        with Session(get_engine(records)) as session:  # stored before the next frame
            [alert] = alerts.list_alerts(session)
            line = alerts.alert_json(alert)
            located = session.get(Site, "LHR-REGAL-01")
            assert located is not None and (located.latitude, located.longitude) == (31.5656, 74.3142)
        lookout.close()
    finally:
        receiver.close()
    assert (line["kind"], line["plate"], line["read"], line["match"], line["track_id"]) == (
        "stolen",
        "QDM5026",
        "QDM5026",
        "exact",
        2,
    )
    assert alert.seen_at == site.start_time + timedelta(seconds=1.4)
    assert [e["kind"] for e in line["evidence"]] == ["scene_at", "plate_crop"]
    for item in alert.evidence:
        assert Path(item["path"]).parent == tmp_path / "out" / "evidence" / "alerts"
        assert evidence.sha256_file(item["path"]) == item["sha256"]
    assert receiver.bodies() == [line]
    assert len(lookout.latencies) == 1 and lookout.latencies[0] < 2.0


def test_every_vehicle_is_one_sighting_and_an_unsettled_one_is_checked_as_it_closes(site, records, tmp_path):
    lookout, processor = lookout_on(site, records, tmp_path)
    recorder = Recorder(records, lookout)
    start = site.start_time

    def closing(track_id: int, text: str) -> JudgedEvent:
        car = track(track_id, text)
        lookout.open[track_id] = car  # as frame_done() left it
        event = VehicleEvent(
            site_id=site.id,
            track_id=track_id,
            vehicle_type="car",
            first_seen=start,
            last_seen=start + timedelta(seconds=2.8),
            plate=vote_plate(car.reads, "pk"),
            colour="red",
            speed_kmh=48.4,
        )
        return JudgedEvent(event)

    unsettled = closing(2, "QDM5026")
    assert recorder.record(unsettled) == []
    assert recorder.record(unsettled) == []  # a retry stores nothing twice
    lookout.settled.add(3)  # its read settled earlier: no hotlist check at its close
    recorder.record(closing(3, "AWO138"))

    with Session(get_engine(records)) as session:
        sightings = session.exec(select(Sighting).order_by(Sighting.track_id)).all()  # type: ignore[arg-type]
        assert [(s.track_id, s.plate_text, s.speed_kmh, s.colour) for s in sightings] == [
            (2, "QDM5026", 48.4, "red"),
            (3, "AWO138", 48.4, "red"),
        ]
        assert len(session.exec(select(Event)).all()) == 2
        [alert] = alerts.list_alerts(session)
        assert (alert.kind, alert.track_id, alert.seen_at) == ("stolen", 2, start + timedelta(seconds=2.8))
        # the sighting keeps the alert's images
        assert sightings[0].evidence == alert.evidence and sightings[1].evidence == []
    assert lookout.raised == 1
