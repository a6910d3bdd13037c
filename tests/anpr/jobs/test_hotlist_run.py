"""The hub's alerts on a real clip, with the installed command as a control room runs it: a plate put
on a hotlist with `anpr hotlist add` raises an alert in `anpr process` as soon as its read settles,
stored while the clip is still being processed and POSTed to a real local webhook; `anpr alerts
list --json` names it with `exact`. The registry's class for another plate raises a
registry_mismatch; the same clip at a second site 264 km away, half an hour later, raises
cloned_plate for the plates read at both."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from anpr.weights import PROJECT_ROOT
from tests.challan.test_webhook import Receiver

ANPR = str(Path(sys.executable).with_name("anpr"))
SAMPLES = PROJECT_ROOT / "sample_videos"
CLIP = SAMPLES / "regal-chowk.mp4"
TRUTH = json.loads((SAMPLES / "regal-chowk.truth.json").read_text())
START = datetime.fromisoformat("2026-11-20T08:00:00+05:00")
REGAL = "{lat: 31.5656, lon: 74.3142}"
ZERO_POINT = "{lat: 33.6938, lon: 73.0652}"  # Islamabad, 264 km away

pytestmark = pytest.mark.slow


def site_file(folder: Path, site_id: str, location: str, start: datetime) -> Path:
    text = (SAMPLES / "regal-chowk.yaml").read_text()
    text = text.replace("id: LHR-REGAL-01", f"id: {site_id}").replace(
        "plate_region: pk}", f"plate_region: pk, location: {location}}}"
    )
    text = text.replace('start_time: "2026-11-20T08:00:00+05:00"', f'start_time: "{start.isoformat()}"')
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "regal-chowk.signal.csv").write_text((SAMPLES / "regal-chowk.signal.csv").read_text())
    path = folder / f"{site_id}.yaml"
    path.write_text(text)
    return path


def anpr(*args: str, env: dict | None = None) -> list[str]:
    done = subprocess.run([ANPR, *args], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def alert_plates(db: str) -> list[tuple[str, str]]:
    with sa.create_engine(db).connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text("SELECT kind, plate FROM alerts"))]


def test_a_listed_plate_is_alerted_as_it_settles_and_a_plate_at_two_far_sites_is_cloned(tmp_path):
    db = f"sqlite:///{tmp_path / 'records.db'}"
    anpr("hotlist", "add", "QDM5026", "--list", "stolen", "--reason", "stolen 19 Nov, FIR 123/26", "--db", db)
    registry = tmp_path / "owners.csv"
    registry.write_text(
        "plate,owner_name,cnic,vehicle_class\nXHN9020,Bilal Khan,35202-1234567-1,motorcycle\n"
    )
    anpr("registry", "import", str(registry), "--db", db)
    receiver = Receiver()
    env = {**os.environ, "ANPR_ALERT_WEBHOOK": receiver.url}
    regal = site_file(tmp_path / "regal", "LHR-REGAL-01", REGAL, START)
    try:
        run = subprocess.Popen(
            [ANPR, "process", str(CLIP), "--site", str(regal), "--db", db, "--out", str(tmp_path / "out1")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        seen_while_running: list[tuple[str, str]] = []
        deadline = time.monotonic() + 600
        while run.poll() is None and time.monotonic() < deadline:
            if not seen_while_running:
                with contextlib.suppress(sa.exc.OperationalError):  # the writer holds the database
                    seen_while_running = alert_plates(db)
            time.sleep(0.2)
        _, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, stderr
        lines = [json.loads(line) for line in anpr("alerts", "list", "--json", "--db", db)]
    finally:
        receiver.close()

    # stored while the clip was still being processed, not at its end
    assert ("stolen", "QDM5026") in seen_while_running
    stolen = [a for a in lines if a["kind"] == "stolen"]
    assert [(a["plate"], a["read"], a["match"], a["list"], a["site_id"]) for a in stolen] == [
        ("QDM5026", "QDM5026", "exact", "stolen", "LHR-REGAL-01")
    ]
    seen_at = datetime.fromisoformat(stolen[0]["seen_at"].replace("Z", "+00:00"))
    clip_end = START + timedelta(seconds=TRUTH["duration_s"])
    assert seen_at < clip_end - timedelta(seconds=4)  # read at 1.4 s of 8 s; the car leaves at 2.8 s
    assert {e["kind"] for e in stolen[0]["evidence"]} >= {"scene_at", "plate_crop"}
    assert all(Path(e["path"]).is_file() for e in stolen[0]["evidence"])
    mismatch = [a for a in lines if a["kind"] == "registry_mismatch"]
    assert [(a["plate"], a["reason"]) for a in mismatch] == [
        ("XHN9020", "registered as motorcycle, seen as car")
    ]
    assert receiver.bodies() == lines  # every alert reached the webhook, as listed

    # The same clip at a second site, 264 km away, half an hour later: no car drives that at 150 km/h.
    zero_point = site_file(tmp_path / "zero", "ISB-ZERO-01", ZERO_POINT, START + timedelta(minutes=30))
    anpr("process", str(CLIP), "--site", str(zero_point), "--db", db, "--out", str(tmp_path / "out2"))
    cloned = [
        json.loads(line) for line in anpr("alerts", "list", "--kind", "cloned_plate", "--json", "--db", db)
    ]

    read_at_both = {"QDM5026", "XHN9020", "WBL255"}  # and AWO138, misread AWQ138 alike at both
    assert {a["plate"] for a in cloned} >= read_at_both
    assert all(a["site_id"] == "ISB-ZERO-01" for a in cloned)
    assert all(a["reason"].startswith("also seen at LHR-REGAL-01, 264 km away, ") for a in cloned)
    with sa.create_engine(db).connect() as connection:
        sightings = connection.execute(sa.text("SELECT site_id, count(*) FROM sightings GROUP BY site_id"))
        assert dict(sightings.all()) == {"LHR-REGAL-01": 5, "ISB-ZERO-01": 5}
