"""Payment references are one reference whatever their letter case: normalised when recorded, and
held by a unique index on upper(reference) in SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from anpr.errors import InputError
from challan import lifecycle
from challan.db import get_engine
from challan.models import Payment
from tests.challan.conftest import record
from tests.challan.test_migrations import fill_0001, migrate


def issue(session, settings, images, *, track_id: int, plate: str = "LEH5789"):
    violation = record(session, settings, images, track_id=track_id, plate=plate)
    challan = lifecycle.approve_violation(
        session, violation_id=violation.id, officer="insp.sana", settings=settings
    )
    session.commit()
    return challan


def test_a_reference_in_other_letters_is_the_same_reference(session, settings, images):
    first = issue(session, settings, images, track_id=1)
    second = issue(session, settings, images, track_id=2, plate="RIA3210")
    paid = lifecycle.record_payment(session, number=first.number, reference=" bank-1 ")
    session.commit()
    assert paid.reference == "BANK-1"
    with pytest.raises(
        InputError, match=f"payment reference BANK-1 is already recorded \\(challan {first.number}\\)"
    ):
        lifecycle.record_payment(session, number=second.number, reference="Bank-1")
    session.rollback()
    assert [p.reference for p in session.exec(select(Payment))] == ["BANK-1"]
    assert second.violation.status == "issued"


def test_the_database_refuses_a_reference_that_differs_only_in_case(session, settings, images):
    first = issue(session, settings, images, track_id=1)
    second = issue(session, settings, images, track_id=2, plate="RIA3210")
    at = datetime(2026, 3, 20, tzinfo=UTC)
    session.add(Payment(challan_id=first.id, reference="hbl-7", amount_pkr=1, paid_at=at, recorded_by="t"))
    session.commit()
    session.add(Payment(challan_id=second.id, reference="HBL-7", amount_pkr=1, paid_at=at, recorded_by="t"))
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()


def test_an_upgrade_stops_at_references_already_recorded_twice_in_other_case(db_url, settings, images):
    fill_0001(db_url, settings, images)
    migrate(db_url, "0002")
    engine = get_engine(db_url)
    with engine.begin() as connection:
        challan_id = connection.execute(sa.text("SELECT id FROM challans")).scalar_one()
        for reference in ("EP-55", "ep-55", "EP-56"):
            connection.execute(
                sa.text(
                    "INSERT INTO payments (challan_id, reference, amount_pkr, paid_at, recorded_by) "
                    "VALUES (:c, :r, 5000, :at, 'epay')"
                ),
                {"c": challan_id, "r": reference, "at": datetime(2026, 3, 20, tzinfo=UTC)},
            )
    with pytest.raises(RuntimeError, match="in different letter case: EP-55; decide which payment stands"):
        migrate(db_url, "0003")
    with Session(engine) as session:
        assert session.exec(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0002"
