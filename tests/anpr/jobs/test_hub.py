"""The edge's sender (anpr.jobs.hub, `anpr send`) against a real hub (uvicorn on loopback, SQLite
records) through a real Redis outbox: events queued while the hub is down are kept (their evidence
in the spool folder) and delivered in order once it is up, none twice; a refused event is set aside
without holding up the rest; a bad file queues nothing. The slow test runs the real commands end
to end on `anpr process --json` output of the regal-chowk sample."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from anpr.jobs.hub import Outbox
from anpr.weights import PROJECT_ROOT
from challan.db import get_engine
from challan.models import Event, IngestReceipt, Violation
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


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    yield url
    _forget(url)


@pytest.fixture
def hub_settings(db_url, tmp_path) -> PortalSettings:
    return PortalSettings(
        database_url=db_url,
        evidence_dir=tmp_path / "hub-evidence",
        secret_key="a test secret key, long enough",
    )


def write_events(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


def recorded_tracks(db_url: str) -> list[int]:
    """The track ids the hub received, in the order it stored them."""
    with Session(get_engine(db_url)) as session:
        return list(session.exec(select(IngestReceipt.track_id).order_by(col(IngestReceipt.id))))


def test_events_wait_in_the_outbox_while_the_hub_is_down_and_arrive_in_order_once_it_is_up(
    db_url, hub_settings, redis_url, outboxes, tmp_path, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-EDGE-1")
    edge = tmp_path / "edge"
    images = evidence_images(edge / "evidence", 2)
    events = [
        event_json(1, root=edge),
        event_json(2, evidence=images, root=edge, speed_kmh=84.9),
        event_json(3, root=edge),
    ]
    lines = write_events(tmp_path / "events.jsonl", events)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    spool = tmp_path / "spool"
    send = ("send", "--hub", base, "--key", key, "--broker", redis_url, "--spool", str(spool))
    outbox = Outbox(hub=base, key=key, redis_url=redis_url, spool=spool)
    outboxes.append(outbox)

    code, _, err = run_anpr(capsys, monkeypatch, *send, str(lines), "--evidence-dir", str(edge))
    assert code == 4
    assert err[-1].startswith(
        f"queued 3; sent to {base}: 0 stored, 0 already there, 0 rejected; 3 left in the outbox"
        " (the hub is unreachable (ConnectError"
    )
    assert outbox.pending() == 3
    spooled = sorted(p.name for p in spool.rglob("*") if p.is_file())
    assert spooled == ["0-t2_scene_at.jpg", "1-t2_plate.png"]
    shutil.rmtree(edge)  # the edge's own copies may go: the spool holds what the hub needs

    with hub_server(hub_settings, port=port):
        code, out, err = run_anpr(capsys, monkeypatch, *send, "--json")
        assert recorded_tracks(db_url) == [1, 2, 3]
        # The same file sent again (the spool emptied, the originals gone): nothing is sent twice.
        write_events(lines, events)
        again = run_anpr(capsys, monkeypatch, *send, str(lines), "--evidence-dir", str(edge))
    assert code == 0, err
    answers = [json.loads(line) for line in out]
    assert [(a["track_id"], a["status"], a["http_status"]) for a in answers] == [
        (1, "stored", 201),
        (2, "stored", 201),
        (3, "stored", 201),
    ]
    assert [v["code"] for v in answers[1]["violations"]] == ["OVER_SPEED"]
    assert err[-1] == f"queued 0; sent to {base}: 3 stored, 0 already there, 0 rejected; 0 left in the outbox"
    assert again[0] == 0 and again[2][-1].startswith("queued 0 (3 queued or sent before); sent to")
    assert recorded_tracks(db_url) == [1, 2, 3]
    assert outbox.pending() == 0 and not any(p.is_file() for p in spool.rglob("*"))
    with Session(get_engine(db_url)) as session:
        [violation] = session.exec(select(Violation)).all()
        assert [e.kind for e in violation.evidence] == ["scene_at", "plate_crop"]


def test_a_sender_kept_waiting_delivers_as_soon_as_the_hub_comes_up(
    db_url, hub_settings, redis_url, outboxes, tmp_path, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-EDGE-2")
    port = free_port()
    outbox = Outbox(hub=f"http://127.0.0.1:{port}", key=key, redis_url=redis_url, spool=tmp_path / "spool")
    outboxes.append(outbox)
    for track in (7, 8):
        assert outbox.put(event_json(track), evidence_dir=tmp_path) is True
    assert outbox.put(event_json(7), evidence_dir=tmp_path) is False  # queued already
    runs = []
    sender = threading.Thread(target=lambda: runs.append(outbox.deliver(wait_s=60)))
    sender.start()
    time.sleep(1.5)  # the sender is backing off from a hub that is not there
    assert sender.is_alive() and outbox.pending() == 2
    with hub_server(hub_settings, port=port):
        sender.join(timeout=60)
        assert not sender.is_alive()
    [run] = runs
    assert (run.stored, run.duplicates, run.rejected, run.left) == (2, 0, 0, 0)
    assert recorded_tracks(db_url) == [7, 8]


def test_an_event_the_hub_refuses_is_set_aside_and_the_rest_still_go(
    db_url, hub_settings, redis_url, outboxes, tmp_path, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-EDGE-3")
    lines = write_events(
        tmp_path / "events.jsonl", [event_json(1), event_json(2, site_id="LHR-CANAL-02"), event_json(3)]
    )
    spool = tmp_path / "spool"
    with hub_server(hub_settings) as base:
        outboxes.append(Outbox(hub=base, key=key, redis_url=redis_url, spool=spool))
        send = ("send", str(lines), "--hub", base, "--key", key, "--broker", redis_url, "--spool", str(spool))
        code, _, err = run_anpr(capsys, monkeypatch, *send)
    assert code == 1
    assert err == ["warning: " + w for w in filter(None, [outboxes[0].persistence_warning()])] + [
        "rejected: site LHR-CANAL-02 track 2 at 2026-11-20T08:00:01+05:00: 403 this key is camera"
        " REGAL-EDGE-3's at site LHR-REGAL-01; the event is from LHR-CANAL-02",
        f"queued 3; sent to {base}: 2 stored, 0 already there, 1 rejected; 0 left in the outbox",
    ]
    assert recorded_tracks(db_url) == [1, 3]
    assert outboxes[0].rejected_count() == 1


def test_a_refused_key_stops_delivery_and_keeps_every_event(
    db_url, hub_settings, redis_url, outboxes, tmp_path, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-EDGE-4")
    assert run_anpr(capsys, monkeypatch, "camera", "revoke", "REGAL-EDGE-4", "--db", db_url)[0] == 0
    lines = write_events(tmp_path / "events.jsonl", [event_json(1), event_json(2)])
    spool = tmp_path / "spool"
    with hub_server(hub_settings) as base:
        outboxes.append(Outbox(hub=base, key=key, redis_url=redis_url, spool=spool))
        send = ("send", str(lines), "--hub", base, "--key", key, "--broker", redis_url, "--spool", str(spool))
        code, _, err = run_anpr(capsys, monkeypatch, *send)
    assert code == 2
    assert err[-1].startswith(
        f"error: the hub at {base}/api/v1/ingest/events answered 401: the key of camera"
    )
    assert outboxes[0].pending() == 2 and recorded_tracks(db_url) == []


def test_a_bad_line_or_a_changed_evidence_file_queues_nothing(
    redis_url, outboxes, tmp_path, capsys, monkeypatch
):
    images = evidence_images(tmp_path / "evidence", 4)
    good = json.dumps(event_json(4, evidence=images))
    spool = tmp_path / "spool"
    base = f"http://127.0.0.1:{free_port()}"
    outboxes.append(Outbox(hub=base, key="anpr_test", redis_url=redis_url, spool=spool))
    send = ("send", "--hub", base, "--key", "anpr_test", "--broker", redis_url, "--spool", str(spool))
    not_json = tmp_path / "broken.jsonl"
    not_json.write_text(good + "\n{'site_id': 1}\n")
    code, _, err = run_anpr(capsys, monkeypatch, *send, str(not_json))
    assert (code, err[-1]) == (
        2,
        "error: line 2: not JSON (Expecting property name enclosed in double quotes)",
    )
    images[1].write_bytes(b"changed")
    code, _, err = run_anpr(
        capsys, monkeypatch, *send, str(write_events(tmp_path / "e.jsonl", [json.loads(good)]))
    )
    assert (code, err[-1]) == (
        2,
        f"error: line 1: evidence {images[1]} has changed since the event was written (SHA-256 differs)",
    )
    assert outboxes[0].pending() == 0 and not spool.exists()


@pytest.mark.slow
def test_anpr_process_output_reaches_the_hub_as_anpr_process_would_record_it(tmp_path, redis_url, outboxes):
    """The real commands: `anpr process --json` on the regal-chowk sample (an edge box with no
    records), `anpr camera add` and `anpr serve` on the hub, `anpr send` between them."""
    env = os.environ | {"ANPR_EVIDENCE_DIR": str(tmp_path / "hub-evidence")}
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    clip = PROJECT_ROOT / "sample_videos" / "regal-chowk.mp4"
    edge = subprocess.run(
        [
            ANPR,
            "process",
            str(clip),
            "--site",
            str(SITE_FILE),
            "--json",
            "--no-store",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    lines = tmp_path / "events.jsonl"
    lines.write_text(edge.stdout)
    printed = [json.loads(line) for line in edge.stdout.splitlines()]
    assert {e["track_id"]: [v["code"] for v in e["violations"]] for e in printed if e["violations"]}
    added = subprocess.run(
        [ANPR, "camera", "add", "REGAL-EDGE", "--site", str(SITE_FILE), "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key = added.stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [ANPR, "serve", "--db", db, "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        spool = tmp_path / "spool"
        outboxes.append(Outbox(hub=base, key=key, redis_url=redis_url, spool=spool))
        sent = subprocess.run(
            [
                ANPR,
                "send",
                str(lines),
                "--hub",
                base,
                "--key",
                key,
                "--broker",
                redis_url,
                "--spool",
                str(spool),
                "--wait",
                "60",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.terminate()
        server.communicate(timeout=15)
    assert sent.returncode == 0, sent.stderr
    assert [json.loads(line)["status"] for line in sent.stdout.splitlines()] == ["stored"] * len(printed)
    with Session(get_engine(db)) as session:
        events = session.exec(select(Event).order_by(col(Event.id))).all()
        assert [e.track_id for e in events] == [e["track_id"] for e in printed]
        found = {
            (v.event.track_id, v.code): (v.status, v.details, sorted(e.sha256 for e in v.evidence))
            for v in session.exec(select(Violation)).all()
        }
    # What the edge judged with the same site file, the hub judged alike, with the same files.
    expected = {
        (e["track_id"], v["code"]): (
            "pending",
            {k: x for k, x in v.items() if k not in ("code", "occurred_at", "id")},
            sorted(item["sha256"] for item in e["evidence"]),
        )
        for e in printed
        for v in e["violations"]
    }
    assert found == expected
    _forget(db)
