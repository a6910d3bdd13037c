"""The retention purge (challan.retention) on real SQLite and PostgreSQL records with real evidence
files: what a vehicle that did nothing leaves goes after the retention (its sighting deleted, its
event redacted, its files deleted once the rows are committed gone), each batch in the hash-chained
audit log; nothing a violation, an alert or a section's or cloned plate's other sighting refers to
is touched; a crash between the rows and the files is finished by the next purge; two purges at
once let each vehicle go once."""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, col, select

from anpr.errors import ConfigError
from anpr.types import Candidate, Evidence, PlateRead, VehicleEvent
from challan import alerts, crud, evidence, retention
from challan.audit import verify_audit
from challan.db import get_engine
from challan.findings import Finding
from challan.hotlists import CLONED_PLATE
from challan.models import AuditEntry, Event, Sighting, utcnow
from challan.settings import Settings
from challan.sightings import record_sighting

HOUR = timedelta(hours=1)
LONG_AGO = time.time() - 3600  # files older than the purge's grace for files written lately


def image(track: int, shade: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), ((40 * track + shade) % 256, 90, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def seen(
    session: Session,
    settings: Settings,
    track: int,
    *,
    ago: timedelta,
    site: str = "LHR-REGAL-01",
    plate: str | None = None,
    findings: bool = False,
    named: bool = False,  # files named per vehicle (as anpr process writes them), not by their SHA-256
    data: bytes | None = None,
) -> VehicleEvent:
    """A vehicle recorded as the pipeline records it (event, sighting, evidence), `ago` before now."""
    root = Path(settings.evidence_dir)
    root.mkdir(parents=True, exist_ok=True)
    source = root.parent / f"source-{site}-{track}.jpg"
    source.write_bytes(data or image(track))
    if named:
        target = root / "out" / f"{site}_t{track}_scene_at.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        scene = Evidence("scene_at", str(target.resolve()), evidence.sha256_file(target))
    else:
        scene = evidence.store_file(source, root=root, kind="scene_at")
    os.utime(evidence.resolve(scene.path, root), (LONG_AGO, LONG_AGO))
    last = utcnow() - ago
    text = plate or f"LEH{5700 + track}"
    event = VehicleEvent(
        site_id=site,
        track_id=track,
        vehicle_type="car",
        first_seen=last - timedelta(seconds=4),
        last_seen=last,
        plate=PlateRead(text=text, confidence=0.93, candidates=(Candidate(text, 0.93),)),
        colour="white",
        speed_kmh=80.0 if findings else 40.0,
        evidence=(scene,),
    )
    found = (
        [Finding("OVER_SPEED", last, {"speed_kmh": 80.0, "limit_kmh": 60.0}, (scene,))] if findings else []
    )
    crud.record_event(session, event=event, findings=found)
    record_sighting(session, event=event)
    session.commit()
    return event


def alert(session: Session, event: VehicleEvent, kind: str = "stolen", details: dict | None = None) -> None:
    plate = event.plate.text if event.plate else ""
    raised = alerts.Raised(kind, plate, plate, "on the list", details=details or {})
    alerts.store(
        session, spotted=alerts.Spotted(event, event.last_seen), raised=[raised], evidence=event.evidence
    )
    session.commit()


def file_of(settings: Settings, event: VehicleEvent) -> Path:
    return evidence.resolve(event.evidence[0].path, settings.evidence_dir)


def rows(session: Session) -> tuple[set[int], dict[int, str]]:
    """The tracks with a sighting, and each event's track -> plate as stored."""
    session.expire_all()
    sightings = {s.track_id for s in session.exec(select(Sighting))}
    events = {e.track_id: e.plate_text for e in session.exec(select(Event))}
    return sightings, events


def test_a_vehicle_that_did_nothing_goes_after_the_retention_and_nothing_else_does(session, settings):
    engine = get_engine(settings.database_url)
    innocent = seen(session, settings, 1, ago=4 * 24 * HOUR)
    recent = seen(session, settings, 2, ago=71 * HOUR)  # inside the 72 h
    fined = seen(session, settings, 3, ago=4 * 24 * HOUR, findings=True)
    alerted = seen(session, settings, 4, ago=4 * 24 * HOUR)
    alert(session, alerted)
    other = seen(
        session, settings, 5, ago=4 * 24 * HOUR, site="ISB-ZERO-01"
    )  # a cloned plate's other sighting
    clone = seen(session, settings, 6, ago=4 * 24 * HOUR + 0.5 * HOUR, plate=other.plate.text)
    other_seen = [other.first_seen.isoformat(), other.last_seen.isoformat()]
    details = {"other_site_id": "ISB-ZERO-01", "other_track_id": 5, "other_seen": other_seen}
    alert(session, clone, CLONED_PLATE, details)
    # A vehicle whose image is, byte for byte, a fined one's (the same file in the store): kept.
    twin = seen(session, settings, 7, ago=4 * 24 * HOUR, data=file_of(settings, fined).read_bytes())
    named = seen(session, settings, 8, ago=5 * 24 * HOUR, named=True)
    before_entries = len(session.exec(select(AuditEntry)).all())

    report = retention.purge(engine, settings=settings)

    assert (report.sightings, report.events, report.files_deleted, report.files_missing) == (2, 2, 2, 0)
    assert report.before == pytest.approx(utcnow() - 72 * HOUR, abs=timedelta(seconds=30))
    sightings, events = rows(session)
    assert sightings == {2, 3, 4, 5, 6, 7}
    assert events == {1: "", 2: recent.plate.text, 3: fined.plate.text, 4: alerted.plate.text} | {
        5: other.plate.text,
        6: clone.plate.text,
        7: twin.plate.text,
        8: "",
    }
    redacted = session.exec(select(Event).where(Event.track_id == 1)).one()
    assert redacted.data["plate"]["text"] == "" and redacted.data["plate"]["candidates"] == []
    assert redacted.data["evidence"] == [] and redacted.data["colour"] is None
    assert (redacted.vehicle_type, redacted.speed_kmh, redacted.data["speed_kmh"]) == ("car", 40.0, 40.0)
    assert "purged_at" in redacted.data
    assert not file_of(settings, innocent).exists() and not file_of(settings, named).exists()
    for kept in (recent, fined, alerted, other, clone, twin):
        assert file_of(settings, kept).exists()

    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()[before_entries:]
    assert [(e.actor, e.action, e.entity) for e in entries] == [
        ("retention", "purge", "sightings"),  # one batch: both vehicles' sightings and events
        ("retention", "purge_files", "sightings"),
    ]
    redacted = select(Event).where(Event.plate_text == "").order_by(col(Event.id))
    paths = sorted([e.path, e.sha256] for v in (innocent, named) for e in v.evidence)
    assert entries[0].changes == {
        "retention_hours": 72.0,
        "before": report.before.isoformat(),
        "sightings": 2,
        "events": [e.id for e in session.exec(redacted)],
        "files": paths,
    }
    assert entries[1].entity_id == str(entries[0].id)
    assert entries[1].changes == {"deleted": 2, "missing": 0, "kept": 0}
    assert verify_audit(session).intact

    again = retention.purge(engine, settings=settings)
    assert (again.sightings, again.events, again.files_deleted) == (0, 0, 0)
    assert len(session.exec(select(AuditEntry)).all()) == before_entries + 2  # nothing purged: nothing logged


def test_a_dry_run_counts_and_changes_nothing(session, settings):
    engine = get_engine(settings.database_url)
    seen(session, settings, 1, ago=4 * 24 * HOUR)
    seen(session, settings, 2, ago=4 * 24 * HOUR, findings=True)
    seen(session, settings, 3, ago=HOUR)
    before = (rows(session), len(session.exec(select(AuditEntry)).all()))

    report = retention.purge(engine, settings=settings, dry_run=True)

    assert (report.dry_run, report.sightings, report.events, report.files_deleted) == (True, 1, 1, 1)
    assert (rows(session), len(session.exec(select(AuditEntry)).all())) == before


def test_the_retention_is_hours_72_unless_set_0_keeps_everything_and_nonsense_is_refused(session, settings):
    assert Settings.from_env({}).sighting_retention_hours == 72.0
    assert Settings.from_env({"ANPR_SIGHTING_RETENTION": "36.5"}).sighting_retention_hours == 36.5
    for bad, says in (
        ("a week", "ANPR_SIGHTING_RETENTION: Input should be a valid number"),
        ("-1", "ANPR_SIGHTING_RETENTION: Input should be greater than or equal to 0"),
        ("inf", "ANPR_SIGHTING_RETENTION: Input should be a finite number"),
    ):
        with pytest.raises(ConfigError) as refused:
            Settings.from_env({"ANPR_SIGHTING_RETENTION": bad})
        assert str(refused.value).startswith(says) and "\n" not in str(refused.value)
    with pytest.raises(ConfigError, match=r"^ANPR_SIGHTING_RETENTION=6: give at least 12 hours"):
        retention.retention_hours(settings.model_copy(update={"sighting_retention_hours": 6}))

    seen(session, settings, 1, ago=400 * 24 * HOUR)
    off = retention.purge(
        get_engine(settings.database_url),
        settings=settings.model_copy(update={"sighting_retention_hours": 0}),
    )
    assert (off.retention_hours, off.before, off.sightings, off.events) == (None, None, 0, 0)
    assert rows(session)[0] == {1}
    shorter = settings.model_copy(update={"sighting_retention_hours": 12})
    seen(session, settings, 2, ago=13 * HOUR)
    seen(session, settings, 3, ago=11 * HOUR)
    assert retention.purge(get_engine(settings.database_url), settings=shorter).sightings == 2
    assert rows(session)[0] == {3}


def test_files_are_deleted_only_when_they_are_the_bytes_recorded_in_the_folder_and_not_touched_lately(
    session, settings, tmp_path
):
    changed = seen(session, settings, 1, ago=4 * 24 * HOUR, named=True)
    file_of(settings, changed).write_bytes(b"another file now")
    os.utime(file_of(settings, changed), (LONG_AGO, LONG_AGO))
    touched = seen(session, settings, 2, ago=4 * 24 * HOUR)
    os.utime(file_of(settings, touched))  # now: an ingest may be storing these bytes again
    gone = seen(session, settings, 3, ago=4 * 24 * HOUR)
    file_of(settings, gone).unlink()
    outside = tmp_path / "elsewhere.jpg"  # a record naming a file outside the evidence folder
    outside.write_bytes(image(9))
    os.utime(outside, (LONG_AGO, LONG_AGO))
    stray = VehicleEvent(
        site_id="LHR-REGAL-01",
        track_id=4,
        vehicle_type="car",
        first_seen=utcnow() - 5 * 24 * HOUR,
        last_seen=utcnow() - 5 * 24 * HOUR,
        evidence=(Evidence("scene_at", str(outside), evidence.sha256_file(outside)),),
    )
    crud.record_event(session, event=stray, findings=[])
    record_sighting(session, event=stray)
    session.commit()

    report = retention.purge(get_engine(settings.database_url), settings=settings)

    assert (report.sightings, report.events) == (4, 4)
    assert (report.files_deleted, report.files_missing, report.files_kept) == (0, 1, 3)
    assert len(session.exec(select(Event).where(Event.plate_text == "")).all()) == 4
    assert file_of(settings, changed).read_bytes() == b"another file now"
    assert file_of(settings, touched).exists() and outside.exists()


def test_files_a_crash_left_behind_are_deleted_by_the_next_purge(session, settings, monkeypatch):
    engine = get_engine(settings.database_url)
    vehicle = seen(session, settings, 1, ago=4 * 24 * HOUR)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("the power went")

    with monkeypatch.context() as patch:
        patch.setattr(retention, "_delete_files", crash)
        with pytest.raises(KeyboardInterrupt):
            retention.purge(engine, settings=settings)
    assert rows(session) == (set(), {1: ""})  # the batch was committed ...
    assert file_of(settings, vehicle).exists()  # ... and its file not deleted

    after = retention.purge(engine, settings=settings)  # finishes the batch a crash cut short
    assert (after.sightings, after.events, after.files_deleted) == (0, 0, 1)
    assert not file_of(settings, vehicle).exists()
    entries = session.exec(select(AuditEntry).where(AuditEntry.actor == "retention")).all()
    assert [(e.action, e.entity) for e in entries] == [("purge", "sightings"), ("purge_files", "sightings")]
    assert entries[1].entity_id == str(entries[0].id) and entries[1].changes["deleted"] == 1
    assert retention.purge(engine, settings=settings).files_deleted == 0  # finished: not again
    assert verify_audit(session).intact


def test_two_purges_at_once_let_each_vehicle_go_once(session, settings, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 5)
    engine = get_engine(settings.database_url)
    for track in range(1, 31):
        seen(session, settings, track, ago=4 * 24 * HOUR, findings=track % 3 == 0)
    reports: list[retention.PurgeReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(retention.purge(engine, settings=settings))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    assert sum(r.sightings for r in reports) == 20 and sum(r.events for r in reports) == 20
    assert sum(r.files_deleted for r in reports) == 20
    sightings, events = rows(session)
    assert sightings == {t for t in range(1, 31) if t % 3 == 0}
    assert {t for t, plate in events.items() if plate} == sightings
    purged = session.exec(select(AuditEntry).where(AuditEntry.action == "purge")).all()
    assert sum(e.changes["sightings"] for e in purged) == 20
    redacted = session.exec(select(Event).where(Event.plate_text == "")).all()
    assert sorted(i for e in purged for i in e.changes["events"]) == sorted(e.id for e in redacted)
    assert verify_audit(session).intact


def test_the_timer_purges_in_its_thread_until_stopped(session, settings):
    seen(session, settings, 1, ago=4 * 24 * HOUR)
    done = threading.Event()
    purged: list[retention.PurgeReport] = []

    def told(report: retention.PurgeReport) -> None:
        purged.append(report)
        done.set()

    timer = retention.PurgeTimer(
        get_engine(settings.database_url), settings, every_s=3600, first_after_s=0.05, on_purge=told
    ).start()
    try:
        assert done.wait(30), "no purge within 30 s"
    finally:
        timer.stop()
    assert [(r.sightings, r.events) for r in purged] == [(1, 1)]
    assert timer._thread is not None and not timer._thread.is_alive()
    assert datetime.now(UTC) - purged[0].before > timedelta(hours=71)


def test_start_purging_for_anpr_watch_purges_the_records_at_its_url(session, settings, monkeypatch):
    monkeypatch.setattr(retention, "FIRST_AFTER_S", 0.05)
    seen(session, settings, 1, ago=4 * 24 * HOUR)
    timer = retention.start_purging(settings.database_url, settings)
    try:
        deadline = time.monotonic() + 30
        while rows(session)[0] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        timer.stop()
    assert rows(session) == (set(), {1: ""})
