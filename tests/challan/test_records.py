from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel, func, select

from anpr.types import PlateRead, VehicleEvent
from challan import crud
from challan.audit import audit_trail
from challan.db import alembic_config, get_engine, init_db, session_scope
from challan.findings import Finding
from challan.models import AuditEntry, Event, EvidenceFile, Site, Violation
from tests.challan.conftest import OFFENCE_AT, record, snapshot


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_migrations_build_exactly_the_models(db_url):
    init_db(db_url)
    init_db(db_url)  # upgrading an up-to-date database changes nothing
    with get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
        assert (
            context.get_current_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
        )


def test_session_scope_commits_or_rolls_back(db_url):
    with session_scope(db_url) as session:
        session.add(Site(id="a", name="A"))
    with pytest.raises(RuntimeError), session_scope(db_url) as session:
        session.add(Site(id="b", name="B"))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(db_url) as session:
        assert [s.id for s in session.exec(select(Site))] == ["a"]


def test_record_event_stores_event_violation_evidence_and_audit(session, settings, images):
    violation = record(session, settings, images)
    assert (violation.status, violation.code, violation.plate_text) == ("pending", "RED_LIGHT", "LEH5789")
    assert violation.occurred_at == OFFENCE_AT  # timezone-aware round trip on both databases
    assert violation.plate_candidates[1] == {"text": "LEH5780", "confidence": 0.4}
    assert violation.details["seconds_into_red"] == 2.4
    assert sorted(e.kind for e in violation.evidence) == ["plate_crop", "scene_at"]
    assert all(len(e.sha256) == 64 for e in violation.evidence)
    assert session.get(Site, "lhr-mall-road-01").name == "lhr-mall-road-01"  # auto-created
    actions = [(e.entity, e.action) for e in audit_trail(session)]
    assert actions == [("sites", "create"), ("events", "record"), ("violations", "record")]


def test_recording_the_same_event_twice_creates_nothing(session, settings, images):
    first = record(session, settings, images)
    before = snapshot(session)
    again = record(session, settings, images)
    assert again.id == first.id
    assert snapshot(session) == before


def test_a_new_finding_on_a_known_event_adds_only_itself(session, settings, images):
    record(session, settings, images)
    event = VehicleEvent(
        site_id="lhr-mall-road-01",
        track_id=1,
        vehicle_type="car",
        first_seen=OFFENCE_AT - timedelta(seconds=3),
        last_seen=OFFENCE_AT + timedelta(seconds=2),
        plate=PlateRead(text="LEH5789", confidence=0.91),
    )
    findings = [
        Finding("RED_LIGHT", OFFENCE_AT, {"seconds_into_red": 2.4}),
        Finding("OVER_SPEED", OFFENCE_AT, {"speed_kmh": 71.0, "limit_kmh": 60}),
        Finding("OVER_SPEED", OFFENCE_AT, {"speed_kmh": 71.0, "limit_kmh": 60}),
    ]
    red, speed, speed_again = crud.record_event(session, event=event, findings=findings)
    session.commit()
    assert speed.id == speed_again.id != red.id
    assert (_count(session, Event), _count(session, Violation)) == (1, 2)


def test_database_refuses_a_duplicate_offence(session, settings, images):
    violation = record(session, settings, images)
    session.add(Violation.model_validate(violation.model_dump(exclude={"id"})))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()
    assert _count(session, Violation) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "DELETE FROM violations",
        "UPDATE evidence SET sha256 = 'x'",
        "DELETE FROM evidence",
        "DELETE FROM events",
    ],
)
def test_database_refuses_deleting_records_and_rewriting_history(session, settings, images, statement):
    record(session, settings, images)
    before = snapshot(session)
    with pytest.raises(sa.exc.DatabaseError, match="refused"):
        session.exec(sa.text(statement))
    session.rollback()
    assert snapshot(session) == before


def test_audit_entries_are_appended_never_rewritten(session, settings, images):
    record(session, settings, images)
    first = [e.model_dump() for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    record(session, settings, images, track_id=2, plate="LEA1234")
    session.expire_all()
    after = [e.model_dump() for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    assert after[: len(first)] == first
    assert len(after) == len(first) + 2  # the new event and its violation


def test_list_filters_by_status_and_plate(session, settings, images):
    a = record(session, settings, images, plate="LEH5789", track_id=1)
    b = record(session, settings, images, plate="RIA3210", track_id=2, at=OFFENCE_AT + timedelta(minutes=1))
    assert [v.id for v in crud.list_violations(session)] == [a.id, b.id]
    assert [v.id for v in crud.list_violations(session, plate="ria-3210")] == [b.id]
    assert crud.list_violations(session, status="issued") == []
    [public] = crud.to_public(session, violations=[a], settings=settings)
    assert (public.number, public.fine_pkr, public.site) == (None, 5000, "lhr-mall-road-01")


def test_evidence_rows_hold_the_content_address(session, settings, images):
    violation = record(session, settings, images)
    rows = session.exec(select(EvidenceFile).where(EvidenceFile.violation_id == violation.id)).all()
    for row in rows:
        assert row.path.startswith(row.sha256[:2] + "/" + row.sha256)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_runs_with_foreign_keys_and_wal(session):
    assert session.exec(sa.text("PRAGMA foreign_keys")).one()[0] == 1
    assert session.exec(sa.text("PRAGMA journal_mode")).one()[0] == "wal"
    session.add(
        Violation(
            event_id=404, site_id="nowhere", code="RED_LIGHT", occurred_at=OFFENCE_AT, vehicle_type="car"
        )
    )
    with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
        session.flush()
