"""Revision 0004 on a database made by 0003 and filled with records: the entries already written are
sealed into the chain in the order they were written, nothing else changes, and the guards come and
go with the revision."""

import pytest
import sqlalchemy as sa
from alembic import command
from argon2 import PasswordHasher
from sqlmodel import Session

from challan import lifecycle, users
from challan.audit import AuditLink, verify_audit
from challan.db import alembic_config, get_engine, init_db
from tests.challan.conftest import record
from tests.challan.test_migrations import comparable

LINK = (AuditLink.seq, AuditLink.entry_id, AuditLink.prev_digest, AuditLink.digest)
# SQLite: reflection skips 0003's index on upper(reference); the rows are what is compared.
pytestmark = pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def migrate(url: str, revision: str, *, down: bool = False) -> None:
    config = alembic_config(url)
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def rows(url: str, *, but: tuple[str, ...] = ("alembic_version", "audit_chain")) -> dict[str, list[tuple]]:
    """Each table's rows; empty tables are left out (a later revision's tables, empty in these
    tests, come and go with it), so rows lost or a table dropped with rows in it still show."""
    engine = get_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        tables = {
            name: [tuple(r) for r in connection.execute(comparable(t))]
            for name, t in metadata.tables.items()
            if name not in but
        }
    return {name: found for name, found in tables.items() if found}


def fill_0003(url: str, settings, images) -> None:
    """Records made by today's code in a database then taken back to 0003 (its rows as written;
    the chain, and the columns of later revisions, go)."""
    migrate(url, "head")
    with Session(get_engine(url), expire_on_commit=False) as session:
        users.add_officer(
            session, username="insp.sana", password="review-pass-2026", role="officer", actor="t"
        )
        issued = record(session, settings, images, track_id=1)
        challan = lifecycle.approve_violation(
            session, violation_id=issued.id, officer="insp.sana", settings=settings
        )
        lifecycle.record_payment(session, number=challan.number, reference="HBL-1")
        record(session, settings, images, track_id=2, plate="LEA1234")
        session.commit()
    migrate(url, "0003", down=True)


def test_the_entries_of_a_0003_database_are_sealed_on_upgrade(db_url, settings, images):
    fill_0003(db_url, settings, images)
    before = rows(db_url)

    init_db(db_url)

    assert rows(db_url) == before
    entries = [entry[0] for entry in before["audit_log"]]
    with Session(get_engine(db_url)) as session:
        links = session.connection().execute(sa.select(AuditLink.entry_id).order_by(AuditLink.seq)).scalars()
        assert list(links) == entries  # id order: the order they were written
        report = verify_audit(session)
        assert (report.intact, report.entries, report.rows) == (True, len(entries), 4)
        lifecycle.reject_violation(session, violation_id=2, officer="insp.sana", reason="blur")
        session.commit()
        assert verify_audit(session).entries == len(entries) + 1  # the application links on


def test_0004_downgrades_to_0003_and_back(db_url, settings, images):
    fill_0003(db_url, settings, images)
    init_db(db_url)
    with get_engine(db_url).begin() as connection:
        links = connection.execute(sa.select(*LINK)).all()
    records = rows(db_url)

    migrate(db_url, "0003", down=True)
    assert rows(db_url, but=("alembic_version",)) == records  # no audit_chain: it went
    with get_engine(db_url).begin() as connection:
        connection.exec_driver_sql("UPDATE challans SET fine_pkr = 1")  # no guard before 0004
        connection.exec_driver_sql("UPDATE challans SET fine_pkr = 5000")

    migrate(db_url, "head")
    assert rows(db_url) == records
    with get_engine(db_url).begin() as connection:
        assert connection.execute(sa.select(AuditLink.__table__)).all() == links  # type: ignore[attr-defined]
        with pytest.raises(sa.exc.DatabaseError, match="refused"):
            connection.exec_driver_sql("UPDATE challans SET fine_pkr = 1")
