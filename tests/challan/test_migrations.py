"""Revision 0002 (officer accounts) on a database made by 0001 and filled with records: with no
officers table yet, and with the table the portal used to create at start-up, accounts in it."""

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel

from challan import lifecycle, users
from challan.db import alembic_config, get_engine, init_db
from challan.models import Officer, UTCDateTime, utcnow
from tests.challan.conftest import record

old_registry = registry()
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


class _OldUsersModel(SQLModel, registry=old_registry):
    pass


class OldOfficer(_OldUsersModel, table=True):
    """The officers table as challan.users created it at start-up before 0002 (create_all)."""

    __tablename__ = "officers"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True, index=True)
    role: str = Field(default="officer", max_length=16)
    password_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def migrate(url: str, revision: str, *, down: bool = False) -> None:
    config = alembic_config(url)
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


# Columns later revisions add to tables that older ones have (0005: who contested; 0006: officers'
# names, late fines), left out where rows are compared across revisions: the rows of an older
# revision have no such columns.
ADDED_LATER = {
    "challans": (
        "contest_party",
        "contest_cnic",
        "contest_contact",
        "late_fine_pkr",
        "officer_name",
        "officer_rank",
        "officer_badge",
    ),
    "officers": ("full_name", "rank", "badge_number", "sign_outs"),
    "sites": ("section",),
}


def comparable(table: sa.Table) -> sa.Select:
    kept = [c for c in table.columns if c.name not in ADDED_LATER.get(table.name, ())]
    return sa.select(*kept).order_by(*table.primary_key.columns)


def all_rows(url: str) -> dict[str, list[tuple]]:
    engine = get_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: [tuple(r) for r in connection.execute(comparable(t))]
            for name, t in metadata.tables.items()
            if name != "alembic_version"
        }


def schema_state(url: str) -> tuple[str | None, list]:
    with get_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return context.get_current_revision(), compare_metadata(context, SQLModel.metadata)


def fill_0001(url: str, settings, images) -> None:
    """Records made by today's code, in a database then taken back to 0001 (the models write the
    columns of the head revision, which 0001 lacks; the rows 0001 has keep what was written)."""
    migrate(url, "head")
    with Session(get_engine(url), expire_on_commit=False) as session:
        issued = record(session, settings, images, track_id=1)
        lifecycle.approve_violation(session, violation_id=issued.id, officer="insp.sana", settings=settings)
        record(session, settings, images, track_id=2, plate="LEA1234")
        session.commit()
    migrate(url, "0001", down=True)


@pytest.mark.parametrize("officers_table", [False, True], ids=["no-officers-table", "start-up-table"])
def test_a_0001_database_with_records_upgrades_in_place(db_url, settings, images, officers_table):
    fill_0001(db_url, settings, images)
    if officers_table:
        old_registry.metadata.create_all(get_engine(db_url))
        with Session(get_engine(db_url)) as session:
            session.add(OldOfficer(username="insp.sana", password_hash=users.hasher.hash("review-pass-2026")))
            session.commit()
    before = all_rows(db_url)
    assert len(before["violations"]) == 2 and len(before["challans"]) == 1
    assert len(before.get("officers", [])) == int(officers_table)

    init_db(db_url)

    assert schema_state(db_url) == (HEAD, [])
    after = all_rows(db_url)
    kept = set(before) | {"officers"}
    assert {name: after[name] for name in kept} == before | {"officers": before.get("officers", [])}
    # Tables of later revisions start empty, but for the audit chain: 0004 seals the entries there.
    assert all(after[name] == [] for name in set(after) - kept - {"audit_chain"})
    assert [link[1] for link in after["audit_chain"]] == [entry[0] for entry in before["audit_log"]]
    with Session(get_engine(db_url), expire_on_commit=False) as session:
        users.add_officer(session, username="chief", password="admin-pass-2026!", role="admin", actor="test")
        session.commit()
        session.add(Officer(username="chief", password_hash="$argon2id$other"))
        with pytest.raises(sa.exc.IntegrityError):  # the unique index, whichever way the table was made
            session.flush()
        session.rollback()
        signed_in = users.authenticate(session, username="insp.sana", password="review-pass-2026")
        assert (signed_in is not None) == officers_table
        assert [o.username for o in users.list_officers(session)] == ["chief", "insp.sana"][
            : 1 + officers_table
        ]


def test_officers_are_never_deleted(db_url):
    init_db(db_url)
    with Session(get_engine(db_url), expire_on_commit=False) as session:
        users.add_officer(
            session, username="insp.sana", password="review-pass-2026", role="officer", actor="t"
        )
        session.commit()
        with pytest.raises(sa.exc.DatabaseError, match="refused"):
            session.exec(sa.text("DELETE FROM officers"))
        session.rollback()
        assert [o.username for o in users.list_officers(session)] == ["insp.sana"]


def test_0002_downgrades_to_0001_and_back_without_touching_records(db_url, settings, images):
    fill_0001(db_url, settings, images)
    tables_0001 = set(all_rows(db_url))
    migrate(db_url, "head")
    records = all_rows(db_url)
    migrate(db_url, "0001", down=True)
    assert all_rows(db_url) == {k: v for k, v in records.items() if k in tables_0001}
    migrate(db_url, "head")
    assert schema_state(db_url) == (HEAD, [])
    assert all_rows(db_url) == records
