"""The hash-chained audit log and what it witnessed, on SQLite and PostgreSQL: every entry linked to
the one before, writers that never fork the chain, tampering that the database refuses or that
`verify_audit` names."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import Session, select

from challan import crud, lifecycle, registry, users
from challan.audit import AuditLink, log_change, verify_audit
from challan.chain import GENESIS, link_digest
from challan.db import get_engine
from challan.models import AuditEntry, VehicleCreate
from tests.challan.conftest import record, snapshot

APPROVED_AT = datetime(2026, 3, 16, 5, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def busy_records(session, settings, images):
    """A little of everything the application writes: an officer, a registry entry, a challan issued
    and paid, another contested and cancelled, a rejected violation."""
    users.add_officer(session, username="insp.sana", password="review-pass-2026", role="officer", actor="cli")
    crud.save_vehicle(
        session,
        data=VehicleCreate(
            plate="LEH5789", vehicle_class="car", owner_name="A. Khan", owner_cnic="35202-1234567-1"
        ),
        actor="import",
    )
    session.commit()
    paid = lifecycle.approve_violation(
        session, violation_id=record(session, settings, images).id, officer="insp.sana", settings=settings
    )
    lifecycle.record_payment(session, number=paid.number, reference="HBL-778812")
    session.commit()
    contested = lifecycle.approve_violation(
        session,
        violation_id=record(session, settings, images, track_id=2).id,
        officer="insp.sana",
        settings=settings,
        now=APPROVED_AT,
    )
    lifecycle.contest_challan(
        session, number=contested.number, reason="not my car", cnic=None, settings=settings, now=APPROVED_AT
    )
    lifecycle.cancel_challan(session, number=contested.number, officer="insp.sana", reason="misread")
    lifecycle.reject_violation(
        session,
        violation_id=record(session, settings, images, track_id=3).id,
        officer="insp.sana",
        reason="blur",
    )
    users.set_active(session, username="insp.sana", active=False, actor="cli")
    session.commit()
    return paid, contested


def tamper(session, *statements: str) -> None:
    """Run `statements` as someone who got round the triggers and commit: on PostgreSQL a superuser
    (the owner, here) switching them off for the transaction; on SQLite whoever holds the file
    dropping them."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        for (name,) in session.exec(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
            session.exec(sa.text(f'DROP TRIGGER "{name}"'))
    for statement in statements:
        session.exec(sa.text(statement))
    session.commit()
    session.expire_all()


def test_every_entry_is_sealed_with_the_hash_of_the_one_before(session, settings, images):
    busy_records(session, settings, images)
    entries = {e.id: e for e in session.exec(select(AuditEntry))}
    links = list(session.exec(select(AuditLink).order_by(AuditLink.seq)))
    assert [link.seq for link in links] == list(range(1, len(entries) + 1))
    assert sorted(link.entry_id for link in links) == sorted(entries)
    prev = GENESIS
    for link in links:
        entry = entries[link.entry_id]
        assert link.prev_digest == prev
        fields = entry.model_dump(
            include={"at", "actor", "action", "entity", "entity_id", "reason", "changes"}
        )
        assert link.digest == link_digest(seq=link.seq, entry_id=entry.id, prev=prev, **fields)
        prev = link.digest
    report = verify_audit(session)
    assert report.intact, report.to_json()
    assert (report.entries, report.head) == (len(entries), prev)
    # 3 violations, 2 challans, 1 officer, 1 vehicle
    assert (
        report.summary()
        == f"audit log intact: {len(entries)} entries chained, head {prev}; 7 records agree with it"
    )


def test_a_rolled_back_change_leaves_no_link_and_the_next_commit_links_on(session, settings, images):
    record(session, settings, images)
    crud.ensure_site(session, site_id="gone")
    session.rollback()
    crud.ensure_site(session, site_id="kept")
    session.commit()
    assert verify_audit(session).intact
    assert session.exec(select(sa.func.count()).select_from(AuditLink)).one() == 4


@pytest.mark.parametrize(
    ("statements", "broken"),
    [
        (
            ["UPDATE audit_log SET actor = 'someone else' WHERE id = 2"],
            "entry 2 (link 2) was changed after it was written",
        ),
        (
            ["UPDATE audit_log SET changes = '{\"fine_pkr\": 1}' WHERE id = 5"],
            "entry 5 (link 5) was changed after it was written",
        ),
        (
            ["DELETE FROM audit_chain WHERE seq = 3", "DELETE FROM audit_log WHERE id = 3"],
            "entry 4: link 3 is missing before it (entries were removed)",
        ),
        (
            ["DELETE FROM audit_chain WHERE seq >= 3", "DELETE FROM audit_log WHERE id = 3"],
            "entry 4 is not in the chain: it was written around the application",
        ),
        (
            [
                "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, changes)"
                " VALUES (900, '2026-03-16 05:00:00', 'x', 'create', 'sites', 'fake', '{}')"
            ],
            "entry 900 is not in the chain: it was written around the application",
        ),
    ],
    ids=["actor-rewritten", "changes-rewritten", "entry-removed", "links-removed", "entry-slipped-in"],
)
def test_a_rewritten_log_breaks_the_chain_at_the_first_entry_touched(
    session, settings, images, statements, broken
):
    busy_records(session, settings, images)
    assert verify_audit(session).intact
    tamper(session, *statements)
    report = verify_audit(session)
    assert (report.intact, report.broken) == (False, broken)
    assert report.summary() == f"audit log broken: {broken}"


def test_re_hashing_a_rewritten_entry_breaks_the_link_after_it(session, settings, images):
    busy_records(session, settings, images)
    link = session.get(AuditLink, 2)
    entry = session.get(AuditEntry, link.entry_id)
    fields = entry.model_dump(include={"at", "action", "entity", "entity_id", "reason", "changes"})
    forged = link_digest(seq=2, entry_id=entry.id, actor="someone else", prev=link.prev_digest, **fields)
    tamper(
        session,
        f"UPDATE audit_log SET actor = 'someone else' WHERE id = {entry.id}",
        f"UPDATE audit_chain SET digest = '{forged}' WHERE seq = 2",
    )
    report = verify_audit(session)
    assert (
        report.broken == f"entry 3 (link 3) does not follow entry {entry.id}: the chain was cut or rewritten"
    )


def test_a_removed_tail_shows_against_a_head_kept_elsewhere(session, settings, images):
    busy_records(session, settings, images)
    crud.ensure_site(session, site_id="lhr-ferozepur-road")  # an entry no row's state rests on
    session.commit()
    head = verify_audit(session).head
    last = session.exec(select(sa.func.max(AuditLink.seq))).one()
    tamper(session, f"DELETE FROM audit_chain WHERE seq = {last}", f"DELETE FROM audit_log WHERE id = {last}")
    assert verify_audit(session).intact  # nothing inside the database can tell a shorter log
    report = verify_audit(session, expected_head=head)
    assert report.broken == (
        f"the chain no longer holds head {head}: entries after it were removed or rewritten"
    )
    assert verify_audit(session, expected_head=report.head).intact


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("UPDATE challans SET fine_pkr = 1", "challans"),
        ("UPDATE challans SET due_on = '2030-01-01'", "challans"),
        ("UPDATE officers SET role = 'admin'", "officers"),
        ("UPDATE violations SET plate_text = 'LEA1234'", "violations"),
        ("UPDATE audit_chain SET digest = prev_digest", "audit_chain"),
        ("DELETE FROM audit_chain", "audit_chain"),
    ],
)
def test_the_database_refuses_changing_what_never_changes(session, settings, images, statement, table):
    busy_records(session, settings, images)
    before = snapshot(session)
    with pytest.raises(sa.exc.DatabaseError, match=f"(UPDATE|DELETE) (of|on) {table}.* refused"):
        session.exec(sa.text(statement))
    session.rollback()
    assert snapshot(session) == before


def test_the_application_still_changes_what_may_change(session, settings, images):
    paid, _ = busy_records(session, settings, images)
    users.set_active(session, username="insp.sana", active=True, actor="cli")  # officers: active may change
    session.commit()
    assert (paid.violation.status, users.get_officer(session, username="insp.sana").active) == ("paid", True)
    assert verify_audit(session).intact


@pytest.mark.parametrize(
    ("statements", "unexplained"),
    [
        (
            ["UPDATE violations SET status = 'cancelled' WHERE status = 'paid'"],
            ['violation 1: status is "cancelled", but the audit log last recorded "paid"'],
        ),
        (
            ["UPDATE challans SET fine_pkr = 1 WHERE id = 1"],
            ["challan 1: fine_pkr is 1, but the audit log last recorded 5000"],
        ),
        (
            ["UPDATE officers SET role = 'admin', active = true"],
            [
                'officer 1: role is "admin", but the audit log last recorded "officer"',
                "officer 1: active is true, but the audit log last recorded false",
            ],
        ),
        (
            ["UPDATE vehicles SET owner_cnic = '61101-7654321-9'"],
            ['vehicle 1: owner_cnic is "61101-7654321-9", but the audit log last recorded "35202-1234567-1"'],
        ),
        (
            [
                "INSERT INTO officers (id, username, role, password_hash, active, created_at)"
                " VALUES (9, 'ghost', 'admin', 'x', true, '2026-03-16 05:00:00')"
            ],
            ["officer 9 has no audit entry: it was written around the application"],
        ),
    ],
    ids=["status", "fine", "role", "owner", "account-slipped-in"],
)
def test_a_row_changed_around_the_application_is_named(session, settings, images, statements, unexplained):
    busy_records(session, settings, images)
    tamper(session, *statements)
    report = verify_audit(session)
    assert (report.broken, report.unexplained) == (None, tuple(unexplained))
    assert report.summary() == f"audit log broken: {unexplained[0]}"


def test_a_registry_reimport_is_witnessed_too(session, settings, images, tmp_path):
    busy_records(session, settings, images)
    rows = "plate,owner_name,cnic,vehicle_class\nLEH5789,B. Khan,35202-7654321-3,car\n"
    (tmp_path / "owners.csv").write_text(rows)
    registry.import_csv(session, path=tmp_path / "owners.csv", actor="import", settings=settings)
    session.commit()
    assert verify_audit(session).intact


def _write_sites(url: str, name: str, barrier: threading.Barrier | None, errors: list) -> None:
    try:
        with Session(get_engine(url)) as session:
            for i in range(8):
                log_change(session, actor=name, action="probe", entity="sites", entity_id=f"{name}-{i}")
                session.flush()
                if barrier is not None:
                    barrier.wait(timeout=30)  # both transactions written, now both commit at once
                session.commit()
    except Exception as exc:  # reported to the test's thread
        errors.append(exc)
        if barrier is not None:
            barrier.abort()


def test_two_writers_at_once_never_fork_the_chain(session, db_url):
    """On PostgreSQL both transactions have written their entries before either commits, so both
    would link to the same tail without the lock; SQLite's write lock serialises them already."""
    barrier = threading.Barrier(2) if db_url.startswith("postgresql") else None
    errors: list = []
    threads = [threading.Thread(target=_write_sites, args=(db_url, n, barrier, errors)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    report = verify_audit(session)
    assert (report.intact, report.entries) == (True, 16)


def test_entries_of_one_transaction_are_linked_in_the_order_written(session):
    for i in range(3):
        log_change(
            session,
            actor="t",
            action="probe",
            entity="sites",
            entity_id=str(i),
            at=APPROVED_AT + timedelta(seconds=-i),
        )
    session.commit()
    links = list(session.exec(select(AuditLink).order_by(AuditLink.seq)))
    assert [session.get(AuditEntry, link.entry_id).entity_id for link in links] == ["0", "1", "2"]
