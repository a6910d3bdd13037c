"""Revision 0005 (who contested) on a database at 0004 with records: three nullable columns come and
go on `challans`, the rows stay as they were, and 0004's guards on the table still hold on both
sides (the columns are added and dropped in place, not by copying the table)."""

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from challan import lifecycle
from challan.db import get_engine
from tests.challan.conftest import record
from tests.challan.test_audit_migration import migrate, rows
from tests.challan.test_migrations import ADDED_LATER

pytestmark = pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")


def columns(url: str) -> set[str]:
    return {c["name"] for c in sa.inspect(get_engine(url)).get_columns("challans")}


def refuses_changing_the_fine(url: str) -> bool:
    with get_engine(url).connect() as connection:
        try:
            connection.exec_driver_sql("UPDATE challans SET fine_pkr = 1")
        except sa.exc.DatabaseError as exc:
            return "refused" in str(exc)
        finally:
            connection.rollback()
    return False


def test_0005_adds_and_drops_the_contestant_in_place(db_url, settings, images):
    migrate(db_url, "head")
    with Session(get_engine(db_url), expire_on_commit=False) as session:
        violation = record(session, settings, images)
        challan = lifecycle.approve_violation(
            session, violation_id=violation.id, officer="insp.sana", settings=settings
        )
        lifecycle.contest_challan(
            session, number=challan.number, reason="misread", cnic="61101-2345678-9", contact="0301 2345678",
            settings=settings,
        )  # fmt: skip
        session.commit()
    records = rows(db_url)
    with get_engine(db_url).connect() as connection:
        recorded = connection.exec_driver_sql(
            "SELECT contest_party, contest_cnic, contest_contact FROM challans"
        )
        assert recorded.one() == ("driver", "61101-2345678-9", "0301 2345678")

    migrate(db_url, "0004", down=True)
    assert columns(db_url).isdisjoint(ADDED_LATER["challans"])
    assert rows(db_url) == records and refuses_changing_the_fine(db_url)

    migrate(db_url, "head")
    assert set(ADDED_LATER["challans"]) <= columns(db_url)
    assert rows(db_url) == records and refuses_changing_the_fine(db_url)
    with get_engine(db_url).connect() as connection:
        assert connection.exec_driver_sql("SELECT contest_party FROM challans").scalar() is None
