"""POST /api/v1/ingest/events on a real uvicorn server on loopback, over real SQLite and PostgreSQL
records: a camera added with `anpr camera add` posts an event with its evidence; the hub judges it
by the site's rules and records it once, however often it is posted; every bad request is a 4xx
that says why and stores nothing; each key has its own rate limit."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, func, select

from challan.db import get_engine
from challan.models import AuditEntry, Camera, Event, EvidenceFile, IngestReceipt, Sighting, Site, Violation
from challan.web.settings import PortalSettings
from tests.challan.web.ingest_support import (
    SITE_FILE,
    SITE_ID,
    START,
    add_camera,
    event_json,
    evidence_images,
    hub_server,
    run_anpr,
)

URL = "/api/v1/ingest/events"


@pytest.fixture
def hub_settings(db_url, tmp_path) -> PortalSettings:
    return PortalSettings(
        database_url=db_url,
        evidence_dir=tmp_path / "hub-evidence",
        secret_key="a test secret key, long enough",
    )


def post(
    base: str, key: str | None, event: dict | str, files: list, path: str = URL, **kwargs
) -> httpx.Response:
    headers = {"X-API-Key": key} if key else {}
    body = event if isinstance(event, str) else json.dumps(event)
    parts = [("evidence", (file.name, file.read_bytes())) for file in files]
    if not parts:
        return httpx.post(base + path, headers=headers, files={"event": (None, body)}, **kwargs)
    return httpx.post(base + path, headers=headers, data={"event": body}, files=parts, **kwargs)


def counts(db_url: str) -> dict[str, int]:
    with Session(get_engine(db_url)) as session:
        return {
            model.__tablename__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Event, Violation, EvidenceFile, IngestReceipt, Sighting, AuditEntry)
        }


def stored_files(settings: PortalSettings) -> list:
    root = settings.evidence_dir
    return (
        sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )


def test_an_event_posted_with_its_evidence_is_judged_and_recorded_once(
    db_url, hub_settings, tmp_path, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-2", "--description", "Private, Regal Cinema")
    assert key.startswith("anpr_") and len(key) > 40
    with Session(get_engine(db_url)) as session:
        camera = session.get(Camera, "REGAL-CAM-2")
        assert camera.site_id == SITE_ID and camera.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in json.dumps(camera.model_dump(mode="json"))  # only its hash is kept
    files = evidence_images(tmp_path / "edge", 4)
    # The edge claims nothing: the hub judges 84.9 km/h against the site's 60 itself.
    event = event_json(4, evidence=files, speed_kmh=84.9)
    with hub_server(hub_settings) as base:
        first = post(base, key, event, files)
        before = counts(db_url)
        again = post(base, key, event, files)
    assert first.status_code == 201, first.text
    answer = first.json()
    [violation] = answer["violations"]
    assert violation["code"] == "OVER_SPEED" and violation["status"] == "pending"
    shas = [hashlib.sha256(path.read_bytes()).hexdigest() for path in files]
    assert answer["evidence"] == [
        {"kind": "scene_at", "path": f"ingest/{shas[0][:2]}/{shas[0]}.jpg", "sha256": shas[0]},
        {"kind": "plate_crop", "path": f"ingest/{shas[1][:2]}/{shas[1]}.png", "sha256": shas[1]},
    ]
    for item, path in zip(answer["evidence"], files, strict=True):
        assert (hub_settings.evidence_dir / item["path"]).read_bytes() == path.read_bytes()
    # The retry: 200, the same records, nothing stored twice.
    assert again.status_code == 200
    assert again.json() == answer | {"duplicate": True}
    assert (
        counts(db_url)
        == before
        == {
            "events": 1,
            "violations": 1,
            "evidence": 2,
            "ingest_receipts": 1,
            "sightings": 1,
            "audit_log": before["audit_log"],
        }
    )
    assert stored_files(hub_settings) == sorted(item["path"] for item in answer["evidence"])
    with Session(get_engine(db_url)) as session:
        row = session.get(Violation, violation["id"])
        assert (row.plate_text, row.plate_year, row.site_id) == ("LEH5784", "07", SITE_ID)
        assert row.details == {
            "speed_kmh": 84.9,
            "limit_kmh": 60.0,
            "tolerance_kmh": 0.0,
            "method": "calibrated-ground-plane",
        }
        assert [(e.kind, e.path) for e in row.evidence] == [
            (e["kind"], e["path"]) for e in answer["evidence"]
        ]
        stored = session.get(Event, answer["event_id"])
        assert stored.data["evidence"] == answer["evidence"] and "violations" not in stored.data
        actors = session.exec(select(AuditEntry.actor).where(AuditEntry.action == "ingest")).all()
        assert actors == ["camera:REGAL-CAM-2"]
    code, out, _ = run_anpr(
        capsys, monkeypatch, "challan", "list", "--status", "pending", "--json", "--db", db_url
    )
    assert code == 0 and [json.loads(line)["violation"] for line in out] == ["OVER_SPEED"]


def test_the_hub_judges_by_the_site_rules_not_by_what_the_edge_claims(
    db_url, hub_settings, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-3")
    red_onset = START + timedelta(seconds=5.5)
    # A red crossing: `anpr process --json` puts the red onset only in the violation it quotes.
    ran_red = event_json(
        12,
        signal="red",
        claimed=[{"code": "RED_LIGHT", "red_onset_at": red_onset.isoformat(), "amber_seconds": 2.5}],
    )
    slow_but_claimed = event_json(13, speed_kmh=40.0, claimed=[{"code": "OVER_SPEED", "speed_kmh": 99.0}])
    with hub_server(hub_settings) as base:
        red = post(base, key, ran_red, [])
        slow = post(base, key, slow_but_claimed, [])
    assert red.status_code == slow.status_code == 201
    assert slow.json()["violations"] == []
    [finding] = red.json()["violations"]
    assert finding["code"] == "RED_LIGHT"
    with Session(get_engine(db_url)) as session:
        details = session.get(Violation, finding["id"]).details
    assert details == {
        "seconds_into_red": 2.0,
        "amber_seconds": 2.5,
        "red_onset_at": red_onset.isoformat(),
        "grace_s": 0.0,
    }


def test_every_bad_request_is_refused_with_its_reason_and_nothing_is_stored(
    db_url, hub_settings, tmp_path, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-4")
    files = evidence_images(tmp_path / "edge", 5)
    good = event_json(5, evidence=files, speed_kmh=84.9)
    swapped = [files[1], files[0]]
    naive = json.dumps(good).replace("+05:00", "")
    other_site = event_json(5, site_id="LHR-CANAL-02")
    with hub_server(hub_settings) as base:
        before = counts(db_url)
        refusals = {
            "no key": post(base, None, good, files),
            "unknown key": post(base, "anpr_" + "x" * 43, good, files),
            "wrong hash": post(base, key, good, swapped),
            "one file short": post(base, key, good, files[:1]),
            "not JSON": post(base, key, "{'site_id': 'LHR-REGAL-01'", files),
            "no first_seen": post(base, key, {k: v for k, v in good.items() if k != "first_seen"}, files),
            "naive time": post(base, key, naive, files),
            "bad plate": post(base, key, good | {"plate": good["plate"] | {"text": "LEH 5789"}}, files),
            "other site": post(base, key, other_site, []),
            "no event": httpx.post(
                base + URL, headers={"X-API-Key": key}, files=[("evidence", ("a.jpg", b"x"))]
            ),
            "plain text": httpx.post(base + URL, headers={"X-API-Key": key}, content=b"hello"),
        }
        after = counts(db_url)
        code, out, err = run_anpr(capsys, monkeypatch, "camera", "revoke", "REGAL-CAM-4", "--db", db_url)
        revoked = post(base, key, good, files)
    assert code == 0 and out[0].startswith("camera REGAL-CAM-4's key revoked at ")
    answers = {name: (r.status_code, r.json()["detail"]) for name, r in refusals.items()}
    sha = [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
    assert answers == {
        "no key": (401, "no API key: send the camera's key in X-API-Key"),
        "unknown key": (401, "unknown API key"),
        "wrong hash": (
            422,
            f"evidence[0] (scene_at): the file's SHA-256 is {sha[1][:16]}...,"
            f" the event says {sha[0][:16]}...",
        ),
        "one file short": (422, "the event lists 2 evidence files and 1 were sent"),
        "not JSON": (400, answers["not JSON"][1]),
        "no first_seen": (422, "event.first_seen: Field required"),
        "naive time": (422, "event.first_seen: Input should have timezone info"),
        "bad plate": (422, "event.plate.text: String should match pattern '^[A-Z0-9]{0,16}$'"),
        "other site": (
            403,
            "this key is camera REGAL-CAM-4's at site LHR-REGAL-01; the event is from LHR-CANAL-02",
        ),
        "no event": (400, "no event field (the event's JSON, as text)"),
        "plain text": (415, "send multipart/form-data (event and evidence files) or application/json"),
    }
    assert answers["not JSON"][1].startswith("the event is not JSON (")
    assert revoked.status_code == 401
    assert revoked.json()["detail"].startswith("the key of camera REGAL-CAM-4 was revoked at ")
    assert after == before == counts(db_url) | {"audit_log": before["audit_log"]}
    assert before["events"] == 0 and stored_files(hub_settings) == []


def test_a_file_that_is_not_what_its_name_says_is_refused(
    db_url, hub_settings, tmp_path, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-5")
    fake = tmp_path / "scene.jpg"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    script = tmp_path / "scene.svg"
    script.write_bytes(b"<svg/>")
    with hub_server(hub_settings) as base:
        not_jpeg = post(base, key, event_json(6, evidence=[fake]), [fake])
        event = event_json(7, evidence=[fake])
        event["evidence"][0]["path"] = "evidence/scene.svg"
        svg = post(base, key, event, [fake])
    assert (not_jpeg.status_code, not_jpeg.json()) == (
        415,
        {"detail": "evidence[0] (scene_at): the file is not a jpg file"},
    )
    assert (svg.status_code, svg.json()) == (
        415,
        {"detail": "evidence[0] (scene_at): '.svg' files are not taken"},
    )
    assert counts(db_url)["events"] == 0


@pytest.mark.parametrize("counter", ["memory", "redis"])
def test_each_key_has_its_own_rate_limit(db_url, hub_settings, counter, capsys, monkeypatch, request):
    if counter == "redis":
        hub_settings = hub_settings.model_copy(update={"redis_url": request.getfixturevalue("redis_url")})
    busy, other = f"CAM-{uuid.uuid4().hex[:8]}", f"CAM-{uuid.uuid4().hex[:8]}"  # fresh Redis counters
    busy_key = add_camera(capsys, monkeypatch, db_url, busy, "--per-minute", "2")
    other_key = add_camera(capsys, monkeypatch, db_url, other)
    with hub_server(hub_settings) as base:
        answers = [post(base, busy_key, event_json(20 + i), []) for i in range(3)]
        elsewhere = post(base, other_key, event_json(30), [])
    assert [a.status_code for a in answers] == [201, 201, 429]
    wait = int(answers[2].headers["retry-after"])
    assert 1 <= wait <= 60
    assert answers[2].json() == {"detail": f"camera {busy} may post 2 events a minute; try again in {wait} s"}
    assert elsewhere.status_code == 201
    assert counts(db_url)["events"] == 3


def test_a_camera_has_one_active_key_and_a_revoked_one_gets_a_new_one(
    db_url, hub_settings, capsys, monkeypatch
):
    old = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-6", "--per-minute", "90")
    listed = run_anpr(capsys, monkeypatch, "camera", "list", "--json", "--db", db_url)
    [camera] = [json.loads(line) for line in listed[1]]
    assert camera | {"registered_at": None} == {
        "id": "REGAL-CAM-6",
        "site_id": SITE_ID,
        "description": None,
        "status": "active",
        "events_per_minute": 90,
        "rules": ["OVER_SPEED", "RED_LIGHT", "WRONG_WAY"],
        "registered_at": None,
        "revoked_at": None,
    }
    again = ("camera", "add", "REGAL-CAM-6", "--site", str(SITE_FILE), "--db", db_url)
    assert run_anpr(capsys, monkeypatch, *again) == (
        2,
        [],
        ["error: camera REGAL-CAM-6 already has an active key (revoke it first for a new one)"],
    )
    assert run_anpr(capsys, monkeypatch, "camera", "revoke", "REGAL-CAM-6", "--db", db_url)[0] == 0
    assert json.loads(run_anpr(capsys, monkeypatch, "camera", "list", "--json", "--db", db_url)[1][0])[
        "status"
    ] == ("revoked")
    new = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-6")
    assert new != old
    with hub_server(hub_settings) as base:
        refused, taken = post(base, old, event_json(40), []), post(base, new, event_json(40), [])
    assert (refused.status_code, taken.status_code) == (401, 201)
    assert run_anpr(capsys, monkeypatch, "camera", "revoke", "NO-SUCH", "--db", db_url) == (
        3,
        [],
        ["error: no camera NO-SUCH registered to post events"],
    )


def test_the_same_event_posted_several_times_at_once_is_stored_once(
    db_url, hub_settings, tmp_path, capsys, monkeypatch
):
    key = add_camera(capsys, monkeypatch, db_url, "REGAL-CAM-7")
    files = evidence_images(tmp_path / "edge", 8)
    event = event_json(8, evidence=files, speed_kmh=91.0)
    start = threading.Barrier(4)

    def racer() -> httpx.Response:
        start.wait()
        return post(base, key, event, files, timeout=30)

    with hub_server(hub_settings) as base, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: racer(), range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["event_id"] for a in answers}) == 1
    assert {k: v for k, v in counts(db_url).items() if k != "audit_log"} == {
        "events": 1,
        "violations": 1,
        "evidence": 2,
        "ingest_receipts": 1,
        "sightings": 1,
    }


def test_a_camera_added_with_a_located_site_file_records_where_the_site_is(
    db_url, tmp_path, capsys, monkeypatch
):
    folder = tmp_path / "sites"
    folder.mkdir()
    shutil.copy(SITE_FILE.with_name("regal-chowk.signal.csv"), folder)
    text = SITE_FILE.read_text().replace(
        "plate_region: pk}", "plate_region: pk, location: {lat: 31.5656, lon: 74.3142}}"
    )
    (folder / "regal-chowk.yaml").write_text(text)
    code, _, err = run_anpr(
        capsys,
        monkeypatch,
        "camera",
        "add",
        "REGAL-CAM-8",
        "--site",
        str(folder / "regal-chowk.yaml"),
        "--db",
        db_url,
    )
    assert code == 0, err
    with Session(get_engine(db_url)) as session:
        site = session.get(Site, SITE_ID)
        assert (site.name, site.latitude, site.longitude) == (
            "Mall Road / Regal Chowk, Lahore",
            31.5656,
            74.3142,
        )
