"""Changes racing each other on real threads, each with its own connection, on a SQLite file (the
default database) and on PostgreSQL: one challan per violation, one payment per reference, and every
other attempt refused with a records error, never an IntegrityError."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from challan import lifecycle
from challan.crud import RecordsBusyError
from challan.db import get_engine
from challan.models import Challan, Payment
from tests.challan.conftest import record

THREADS = 8


def race(url: str, step: Callable[[Session, int], str]) -> list[tuple[str, str]]:
    """Run `step` on THREADS threads released together, each in its own session; (outcome, message)
    per thread, outcome 'ok' or the exception's class name."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[tuple[str, str]] = [("", "")] * THREADS

    def run(i: int) -> None:
        with Session(get_engine(url), expire_on_commit=False) as session:
            barrier.wait()
            try:
                result = step(session, i)
                session.commit()
                outcomes[i] = ("ok", result)
            except Exception as exc:
                session.rollback()
                outcomes[i] = (type(exc).__name__, str(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_approvals_make_one_challan(session, settings, images):
    violation = record(session, settings, images)

    def approve(s: Session, i: int) -> str:
        return lifecycle.approve_violation(
            s, violation_id=violation.id, officer=f"insp.{i}", settings=settings
        ).number

    outcomes = race(settings.database_url, approve)
    assert Counter(kind for kind, _ in outcomes) == {"ok": 1, "TransitionError": THREADS - 1}, outcomes
    [number] = [message for kind, message in outcomes if kind == "ok"]
    refusal = (
        f"violation {violation.id} (challan {number}) is issued; only a pending violation can be approved"
    )
    assert {message for kind, message in outcomes if kind != "ok"} == {refusal}
    session.expire_all()
    assert [c.number for c in session.exec(select(Challan))] == [number]


def test_payments_racing_with_one_reference_record_one(session, settings, images):
    numbers = []
    for track in range(4):
        violation = record(session, settings, images, track_id=track + 1, plate=f"RIA{track + 1}")
        numbers.append(
            lifecycle.approve_violation(
                session, violation_id=violation.id, officer="a", settings=settings
            ).number
        )
        session.commit()

    def pay(s: Session, i: int) -> str:
        # two threads per challan; letter case differs between threads but the reference is one
        reference = "hbl-4410" if i % 2 else "HBL-4410"
        return lifecycle.record_payment(s, number=numbers[i % 4], reference=reference).challan.number

    outcomes = race(settings.database_url, pay)
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds["ok"] == 1 and set(kinds) <= {"ok", "InputError", "TransitionError"}, outcomes
    [paid] = [message for kind, message in outcomes if kind == "ok"]
    refused = {message for kind, message in outcomes if kind == "InputError"}
    assert refused == {f"payment reference HBL-4410 is already recorded (challan {paid})"}
    session.expire_all()
    assert [(p.reference, p.challan.number) for p in session.exec(select(Payment))] == [("HBL-4410", paid)]


def test_a_change_that_cannot_get_the_sqlite_lock_in_time_is_refused(session, settings, images, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's database lock (PostgreSQL locks rows)")
    violation = record(session, settings, images)
    blocker = sa.create_engine(db_url).connect()
    blocker.exec_driver_sql("BEGIN IMMEDIATE")  # another process writing, for longer than we wait
    try:
        with Session(get_engine(db_url)) as waiting:
            waiting.connection().exec_driver_sql("PRAGMA busy_timeout=200")
            with pytest.raises(RecordsBusyError, match="the records are busy with another change"):
                lifecycle.approve_violation(
                    waiting, violation_id=violation.id, officer="a", settings=settings
                )
            waiting.rollback()
    finally:
        blocker.exec_driver_sql("ROLLBACK")
        blocker.close()
    challan = lifecycle.approve_violation(session, violation_id=violation.id, officer="a", settings=settings)
    assert challan.number
