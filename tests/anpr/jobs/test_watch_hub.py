"""anpr watch --hub: live cameras on an edge box with no database send their events to the hub (a
real one: uvicorn on loopback, PostgreSQL records) through a real Redis outbox. Events wait in it
while the hub is away and arrive once each, in order, when it is back; a stop queues the open
tracks, and what is queued goes after the next start; a bad address or a missing key is one line.
The slow test runs the real command on a looped clip of the regal-chowk sample."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from anpr.jobs.health import Health, read_health
from anpr.jobs.hub import Outbox
from anpr.jobs.uplink import EVENTS_FILE, HubTarget, Uplink, camera_keys
from anpr.jobs.watch import load_cameras
from anpr.weights import PROJECT_ROOT
from challan import hotlists
from challan.db import get_engine
from challan.models import Alert, EvidenceFile, IngestReceipt
from challan.web.settings import PortalSettings
from tests.challan.conftest import _forget
from tests.challan.web.ingest_support import (
    SITE_FILE,
    add_camera,
    event_json,
    evidence_images,
    free_port,
    hub_server,
    run_anpr,
)

ANPR = str(Path(sys.executable).with_name("anpr"))
CLIP = PROJECT_ROOT / "sample_videos" / "regal-chowk.mp4"


@pytest.fixture
def hub_db(postgres_url):
    """The hub's records: a PostgreSQL schema of its own."""
    schema = f"anpr_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{postgres_url}{'&' if '?' in postgres_url else '?'}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        _forget(url)
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def hub_settings(hub_db, tmp_path) -> PortalSettings:
    return PortalSettings(
        database_url=hub_db,
        evidence_dir=tmp_path / "hub-evidence",
        secret_key="a test secret key, long enough",
    )


def received(db_url: str) -> list[tuple[int, datetime]]:
    """(track, first_seen in UTC) of each event the hub took, in the order it stored them."""
    with Session(get_engine(db_url)) as session:
        rows = session.exec(
            select(IngestReceipt.track_id, IngestReceipt.first_seen).order_by(col(IngestReceipt.id))
        ).all()
    return [(track, _utc(first)) for track, first in rows]


def queued(events: list[dict]) -> list[tuple[int, datetime]]:
    return [(e["track_id"], _utc(datetime.fromisoformat(e["first_seen"]))) for e in events]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def wait_for(what: str, check, timeout: float, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"{what}: not within {timeout:.0f} s")


def _cameras(folder: Path, *entries: str) -> Path:
    """A cameras file of these entries (a new file each time)."""
    path = folder / f"cameras-{len(list(folder.glob('cameras-*.yaml')))}.yaml"
    path.write_text("cameras:\n" + "".join(f"  - {{{entry}}}\n" for entry in entries))
    return path


def test_a_bad_hub_address_or_a_camera_without_its_key_is_one_line(tmp_path, capsys, monkeypatch):
    site = f"site: {SITE_FILE}, source: {CLIP}, loop: true"
    one = _cameras(tmp_path, f"id: A, {site}")
    secret = "anpr_s3cr3t-never-printed"
    monkeypatch.setenv("CAM_A_KEY", secret)
    monkeypatch.delenv("CAM_B_KEY", raising=False)
    hub = ("--hub", "http://127.0.0.1:9")
    both = _cameras(tmp_path, f"id: A, {site}, key: {secret}, key_env: CAM_A_KEY")
    for args, code, expected in (
        (
            (str(one), "--hub", "hub.example.pk", "--key", secret),
            2,
            "error: --hub 'hub.example.pk' is not the hub's address (http:// or https://, e.g."
            " https://hub.example.pk)",
        ),
        (
            (str(one), "--hub", "ftp://hub.example.pk", "--key", secret),
            2,
            "error: --hub 'ftp://hub.example.pk'",
        ),
        ((str(one), "--hub", "https://", "--key", secret), 2, "error: --hub 'https://' is not"),
        (
            (str(one), *hub),
            2,
            "error: camera A has no hub key: give --key, or key_env: (or key:) in the cameras file",
        ),
        (
            (str(_cameras(tmp_path, f"id: A, {site}, key_env: CAM_B_KEY")), *hub),
            2,
            "error: camera A: key_env CAM_B_KEY is not set (it holds the hub key)",
        ),
        (
            (
                str(_cameras(tmp_path, f"id: A, {site}, key_env: CAM_A_KEY", f"id: B, {site}")),
                *hub,
                "--key",
                secret,
            ),
            2,
            "error: --key serves a cameras file with one camera: give each camera its own key_env: (or"
            " key:) in the file",
        ),
        (
            (
                str(
                    _cameras(tmp_path, f"id: A, {site}, key_env: CAM_A_KEY", f"id: B, {site}, key: {secret}")
                ),
                *hub,
            ),
            2,
            "error: cameras A and B have the same hub key: the hub issues one per camera",
        ),
        (
            (str(_cameras(tmp_path, f"id: A, {site}, key: '{secret} x'")), *hub),
            2,
            "error: camera A: its hub key has spaces or characters no key from `anpr camera add` has",
        ),
        (
            (str(both), *hub),
            2,
            f"error: {both}: cameras.0: Value error, give key_env or key, not both",
        ),
        (
            (str(one), *hub, "--key", secret, "--db", f"sqlite:///{tmp_path / 'x.db'}"),
            2,
            "error: --hub sends the events to the hub instead of a database: give --db or --hub",
        ),
        ((str(one), "--key", secret), 2, "error: --key goes with --hub (the hub's key for the camera)"),
        (
            (str(one), *hub, "--key", secret, "--no-store"),
            2,
            "error: --hub sends every event to the hub: --no-store would send none",
        ),
        (
            (str(one), *hub, "--key", secret, "--broker", "redis://127.0.0.1:1/0"),
            3,
            "error: the outbox's Redis at redis://127.0.0.1:1/0 does not answer (Error 111",
        ),
    ):
        status, out, err = run_anpr(capsys, monkeypatch, "watch", *args)
        assert (status, len(err)) == (code, 1), (args, err)
        assert err[0].startswith(expected), (args, err)
        assert secret not in err[0] and not out
    assert not (tmp_path / "x.db").exists()


def test_each_camera_has_its_own_key_and_the_file_never_shows_it(tmp_path):
    site = f"site: {SITE_FILE}, source: {CLIP}"
    cameras = load_cameras(
        _cameras(tmp_path, f"id: A, {site}, key_env: CAM_A_KEY", f"id: B, {site}, key: kb-1")
    )
    assert "kb-1" not in repr(cameras) and "kb-1" not in str(cameras[1].model_dump())
    assert camera_keys(cameras, None, {"CAM_A_KEY": " ka-1\n"}) == {"A": "ka-1", "B": "kb-1"}
    (single,) = load_cameras(_cameras(tmp_path, f"id: A, {site}"))
    assert camera_keys([single], "k-from-the-command-line", {}) == {"A": "k-from-the-command-line"}
    (own,) = load_cameras(_cameras(tmp_path, f"id: A, {site}, key_env: CAM_A_KEY"))
    assert camera_keys([own], "k-from-the-command-line", {"CAM_A_KEY": "ka-1"}) == {"A": "ka-1"}


def test_events_wait_while_the_hub_is_away_arrive_in_order_and_survive_a_stop(
    hub_db, hub_settings, redis_url, outboxes, tmp_path, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, hub_db, "REGAL-EDGE-U")
    port = free_port()
    target = HubTarget(f"http://127.0.0.1:{port}", redis_url, tmp_path / "spool")
    state, segment = tmp_path / "state", tmp_path / "segment"
    segment.mkdir()
    edge = tmp_path / "edge"
    events = [event_json(1), event_json(2, evidence=evidence_images(edge, 2), speed_kmh=84.9), event_json(3)]

    def uplink() -> Uplink:
        health = Health("REGAL-EDGE-U", site_id="LHR-REGAL-01")
        made = Uplink(target, key, health, lambda: health.write(state))
        outboxes.append(made.outbox)
        made.start()
        return made

    def health() -> dict:
        records = read_health(state)
        return records[0] if records else {}

    first = uplink()
    for event in events:
        first.send(event, segment)
    waiting = wait_for("the backlog in the health", lambda: health().get("queued") == 3 and health(), 10)
    assert waiting["sent"] == 0 and waiting["hub_error"].startswith("the hub is unreachable (ConnectError")
    assert 0 <= waiting["queued_age_s"] < 10
    shutil.rmtree(edge)  # the spool has copies of the evidence: the camera's own may go
    with hub_server(hub_settings, port=port):
        wait_for("the backlog sent", lambda: health()["queued"] == 0, 30)
        assert received(hub_db) == queued(events)
        # The hub goes away again: what closes meanwhile is kept, across a stop and a new start.
    later = [event_json(4), event_json(5)]
    for event in later:
        first.send(event, segment)
    began = time.monotonic()
    first.close(drain_s=1.0)
    assert time.monotonic() - began < 5
    done = health()
    assert (done["queued"], done["sent"]) == (2, 3) and "unreachable" in done["hub_error"]
    assert done["queued_since"] > waiting["queued_since"]  # the oldest now is event 4
    lines = [json.loads(line) for line in (segment / EVENTS_FILE).read_text().splitlines()]
    assert queued(lines) == queued(events + later)
    with hub_server(hub_settings, port=port):
        second = uplink()
        wait_for("the kept events sent after a restart", lambda: health()["queued"] == 0, 30)
        second.close()
    assert received(hub_db) == queued(events + later)  # each once, in order
    assert outboxes[0].pending() == 0 and not any(p.is_file() for p in target.spool.rglob("*"))
    with Session(get_engine(hub_db)) as session:
        stored = sorted(e.sha256 for e in session.exec(select(EvidenceFile)).all())
    assert stored == sorted(item["sha256"] for item in events[1]["evidence"])


def test_a_key_the_hub_refuses_keeps_every_event_and_says_why(
    hub_db, hub_settings, redis_url, outboxes, tmp_path, capsys, monkeypatch
):
    add_camera(capsys, monkeypatch, hub_db, "REGAL-EDGE-R")
    state, segment = tmp_path / "state", tmp_path / "segment"
    segment.mkdir()
    health = Health("REGAL-EDGE-R", site_id="LHR-REGAL-01")
    with hub_server(hub_settings) as base:
        target = HubTarget(base, redis_url, tmp_path / "spool")
        uplink = Uplink(target, "anpr_not-a-key-the-hub-issued", health, lambda: health.write(state))
        outboxes.append(uplink.outbox)
        uplink.start()
        uplink.send(event_json(1), segment)
        wait_for("the refusal in the health", lambda: health.hub_error, 10)
        uplink.close(drain_s=1.0)
    assert health.hub_error == f"the hub at {base}/api/v1/ingest/events answered 401: unknown API key"
    assert (health.queued, health.sent) == (1, 0) and received(hub_db) == []
    assert "not-a-key" not in (state / "REGAL-EDGE-R.json").read_text()


def test_cameras_status_shows_each_hub_cameras_backlog(tmp_path, capsys, monkeypatch):
    state = tmp_path / "state"
    waiting = Health("EDGE-1", site_id="LHR-REGAL-01", status="running", queued=4, sent=7)
    waiting.queued_since = (datetime.now(UTC) - timedelta(seconds=95)).isoformat()
    waiting.hub_error = "the hub is unreachable (ConnectError: [Errno 111] Connection refused)"
    waiting.write(state)
    Health("LOCAL-2", site_id="LHR-CANAL-02", status="running").write(state)  # records to a database
    code, out, _ = run_anpr(capsys, monkeypatch, "cameras", "status", "--state", str(state), "--json")
    edge, local = (json.loads(line) for line in out)
    assert code == 0 and (edge["queued"], edge["sent"], local["queued"]) == (4, 7, None)
    assert 95 <= edge["queued_age_s"] < 120 and local["queued_age_s"] is None
    monkeypatch.setenv("COLUMNS", "240")
    code, out, _ = run_anpr(capsys, monkeypatch, "cameras", "status", "--state", str(state))
    header = [cell.strip() for cell in next(line for line in out if "┃" in line).split("┃")[1:-1]]
    rows = {
        cells[0]: dict(zip(header, cells, strict=True))
        for line in out
        if "│" in line and (cells := [cell.strip() for cell in line.split("│")[1:-1]])[0]
    }
    assert code == 0 and header[-4:] == ["queued", "oldest s", "sent", "error"]
    assert (rows["EDGE-1"]["queued"], rows["EDGE-1"]["sent"]) == ("4", "7")
    assert 95 <= int(rows["EDGE-1"]["oldest s"]) < 120
    assert (
        rows["EDGE-1"]["error"]
        == "hub: the hub is unreachable (ConnectError: [Errno 111] Connection refused)"
    )
    assert [rows["LOCAL-2"][name] for name in ("queued", "oldest s", "sent", "error")] == ["-", "-", "0", ""]


def _events_written(out: Path) -> list[dict]:
    """Every event the camera queued, segment by segment (segments are named by start time)."""
    return [
        json.loads(line)
        for log in sorted(out.glob(f"REGAL-EDGE/*/{EVENTS_FILE}"))
        for line in log.read_text().splitlines()
    ]


@pytest.mark.slow
def test_watch_sends_a_live_camera_to_the_hub_through_outages_and_restarts(
    hub_db, hub_settings, redis_url, outboxes, tmp_path, capsys, monkeypatch
):
    """The real command on the regal-chowk clip looped as a live camera: the hub down at first,
    then up, then down again as the watcher gets SIGTERM; the watcher started again and the hub
    back: every event the camera closed reaches the hub once, in the order it was queued."""
    key = add_camera(capsys, monkeypatch, hub_db, "REGAL-EDGE")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cameras = _cameras(
        tmp_path, f"id: REGAL-EDGE, source: {CLIP}, site: {SITE_FILE}, loop: true, key_env: EDGE_KEY"
    )
    out, spool = tmp_path / "out", tmp_path / "spool"
    outbox = Outbox(hub=base, key=key, redis_url=redis_url, spool=spool)
    outboxes.append(outbox)
    command = [ANPR, "watch", str(cameras), "--hub", base, "--broker", redis_url, "--spool", str(spool)]
    command += ["--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "EDGE_KEY": key}
    env.pop("ANPR_DATABASE_URL", None)

    def health() -> dict:
        records = read_health(out / "state")
        return records[0] if records else {}

    def start():
        return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)

    def stop(watcher) -> str:
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=90)
        assert watcher.returncode == 0, err
        return err

    watcher = start()
    try:
        wait_for(
            "two events queued while the hub is down", lambda: (health().get("queued") or 0) >= 2, 240, 0.5
        )
        assert "unreachable" in health()["hub_error"]
        with hub_server(hub_settings, port=port):
            wait_for("the backlog sent", lambda: health()["queued"] == 0 and health()["sent"] >= 2, 60, 0.5)
        sent_before = len(received(hub_db))
        wait_for("an event queued with the hub down again", lambda: health()["queued"] >= 1, 120, 0.5)
        err = stop(watcher)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert key not in err
    stopped = health()
    first_run = _events_written(out)
    assert stopped["status"] == "stopped" and stopped["vehicles"] == len(first_run)
    assert stopped["queued"] == outbox.pending() == len(first_run) - sent_before >= 1
    assert received(hub_db) == queued(first_run)[:sent_before]
    assert not list(out.glob("REGAL-EDGE/*/INCOMPLETE"))
    for folder in out.glob("REGAL-EDGE/*/evidence"):
        shutil.rmtree(folder)  # the spool keeps what the hub has not had yet

    with hub_server(hub_settings, port=port):
        watcher = start()
        try:
            wait_for(
                "the kept events and new ones sent",
                lambda: len(received(hub_db)) > len(first_run) and health().get("queued") == 0,
                240,
                1.0,
            )
            stop(watcher)
        finally:
            if watcher.poll() is None:
                watcher.kill()
        everything = _events_written(out)
        assert len(everything) > len(first_run) and everything[: len(first_run)] == first_run
        assert received(hub_db) == queued(everything)  # each once, in the order queued
    assert outbox.pending() == 0 and not any(p.is_file() for p in spool.rglob("*"))
    assert health()["sent"] == len(everything) - sent_before  # the second run's: the kept ones and its own


@pytest.mark.slow
def test_a_hotlisted_plate_is_alerted_as_its_read_settles_not_when_the_car_has_gone(
    hub_db, hub_settings, redis_url, outboxes, tmp_path, capsys, monkeypatch
):
    """The real command with the hub up: a car of the clip whose plate is on a hotlist is tipped off
    to the hub the moment its read settles (POST /api/v1/ingest/sightings), so its alert is stored
    before its event arrives, and once."""
    key = add_camera(capsys, monkeypatch, hub_db, "REGAL-TIP")
    with Session(get_engine(hub_db)) as session:
        hotlists.add_entry(session, plate="WBL255", list_name="stolen", reason="FIR 7/26", actor="test")
        session.commit()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cameras = _cameras(
        tmp_path, f"id: REGAL-TIP, source: {CLIP}, site: {SITE_FILE}, loop: true, key_env: TIP_KEY"
    )
    out, spool = tmp_path / "out", tmp_path / "spool"
    outboxes.append(Outbox(hub=base, key=key, redis_url=redis_url, spool=spool))
    command = [ANPR, "watch", str(cameras), "--hub", base, "--broker", redis_url, "--spool", str(spool)]
    command += ["--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TIP_KEY": key}
    env.pop("ANPR_DATABASE_URL", None)

    def alerted_and_recorded() -> list[tuple[Alert, IngestReceipt]]:
        with Session(get_engine(hub_db)) as session:
            return list(
                session.exec(
                    select(Alert, IngestReceipt).where(
                        Alert.plate == "WBL255",
                        col(IngestReceipt.track_id) == col(Alert.track_id),
                        col(IngestReceipt.first_seen) == col(Alert.first_seen),
                    )
                )
            )

    with hub_server(hub_settings, port=port):
        watcher = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        try:
            wait_for("WBL255 alerted and its event recorded", lambda: bool(alerted_and_recorded()), 240, 0.5)
            watcher.send_signal(signal.SIGTERM)
            _, err = watcher.communicate(timeout=90)
        finally:
            if watcher.poll() is None:
                watcher.kill()
        assert watcher.returncode == 0, err
    pairs = alerted_and_recorded()
    with Session(get_engine(hub_db)) as session:
        vehicles = session.exec(select(Alert.track_id, Alert.first_seen).where(Alert.plate == "WBL255")).all()
    assert len(vehicles) == len(set(vehicles))  # one alert a vehicle, though tipped off and then posted
    alert, receipt = pairs[0]
    assert alert.raised_at < receipt.received_at  # in before the car's event: as its read settled
    assert any(e["kind"] == "plate_crop" for e in alert.evidence)  # with the plate as read then
    assert not [p for p in out.glob("REGAL-TIP/*/evidence/alerts/*") if p.is_file()]  # let go once posted
