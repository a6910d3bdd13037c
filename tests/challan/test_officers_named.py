"""The notice names a real officer: accounts carry a name, rank and badge number, a challan keeps them
as they were on the day of issue (the database refuses changing them), and the PDF prints them."""

import shutil
import subprocess

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import Session

from anpr.errors import InputError
from challan import lifecycle, users
from challan.audit import audit_trail
from challan.db import get_engine
from challan.pdf import challan_pdf
from tests.challan.conftest import record
from tests.challan.test_audit_migration import migrate, rows
from tests.challan.test_migrations import ADDED_LATER

COLUMNS_0006 = {
    "challans": ("late_fine_pkr", "officer_name", "officer_rank", "officer_badge"),
    "officers": ("full_name", "rank", "badge_number"),
}
ALI = {"username": "insp.ali", "password": "review-pass-2026", "role": "officer", "actor": "t"}
SANA = {"full_name": "Sana  Tariq ", "rank": "Inspector", "badge_number": "etc-1042"}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def add_sana(session, **person):
    return users.add_officer(
        session,
        username="insp.sana",
        password="review-pass-2026",
        role="officer",
        actor="t",
        **(SANA | person),
    )


def test_an_account_names_its_officer_and_a_badge_is_one_officers(session):
    sana = add_sana(session)
    assert (sana.full_name, sana.rank, sana.badge_number) == ("Sana Tariq", "Inspector", "ETC-1042")
    created = audit_trail(session, entity="officers", entity_id=sana.id)[-1]
    assert created.changes["badge_number"] == "ETC-1042"
    with pytest.raises(InputError, match="badge number ETC-1042 is already officer 'insp.sana''s"):
        users.add_officer(session, **ALI, full_name="Ali Raza", rank="Inspector", badge_number="ETC-1042")
    with pytest.raises(InputError, match="rank must be 2 to 60 characters"):
        users.add_officer(session, **ALI, full_name="Ali Raza", badge_number="ETC-9")
    with pytest.raises(InputError, match="badge number 'ETC 9' is not"):
        users.edit_officer(session, username="insp.sana", actor="t", badge_number="ETC 9")


def test_editing_an_account_is_logged(session):
    old = users.add_officer(
        session, username="old.hand", password="review-pass-2026", role="officer", actor="t"
    )
    assert old.full_name is None  # an account from before names no one
    users.edit_officer(session, username="old.hand", actor="admin", **SANA)
    entry = audit_trail(session, entity="officers", entity_id=old.id)[-1]
    assert (entry.action, entry.actor) == ("update", "admin")
    assert entry.changes == {"full_name": [None, "Sana Tariq"], "rank": [None, "Inspector"],
                             "badge_number": [None, "ETC-1042"]}  # fmt: skip


def test_a_challan_keeps_its_officer_as_named_on_the_day_of_issue(session, settings, images):
    add_sana(session)
    violation = record(session, settings, images)
    challan = lifecycle.approve_violation(
        session, violation_id=violation.id, officer="insp.sana", settings=settings
    )
    session.commit()
    assert (challan.officer, challan.officer_name, challan.officer_rank, challan.officer_badge) == (
        "insp.sana",
        "Sana Tariq",
        "Inspector",
        "ETC-1042",
    )
    users.edit_officer(session, username="insp.sana", actor="t", rank="Deputy Superintendent")
    session.commit()
    session.refresh(challan)
    assert challan.officer_rank == "Inspector"
    with get_engine(settings.database_url).connect() as connection, pytest.raises(sa.exc.DatabaseError):
        connection.exec_driver_sql("UPDATE challans SET officer_name = 'Someone Else'")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_the_notice_prints_the_officers_rank_name_and_badge(session, settings, images, tmp_path):
    add_sana(session)
    violation = record(session, settings, images)
    lifecycle.approve_violation(session, violation_id=violation.id, officer="insp.sana", settings=settings)
    session.commit()
    users.edit_officer(session, username="insp.sana", actor="t", rank="Deputy Superintendent")
    session.commit()
    path = tmp_path / "notice.pdf"
    path.write_bytes(challan_pdf(session, key=str(violation.id), public=True, settings=settings))
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split()
    )
    assert "Reviewed and approved by Inspector Sana Tariq, badge ETC-1042" in text
    assert "insp.sana" not in text and "Deputy" not in text


def refuses(url: str, statement: str) -> bool:
    with get_engine(url).connect() as connection:
        try:
            connection.exec_driver_sql(statement)
        except sa.exc.DatabaseError as exc:
            return "refused" in str(exc)
        finally:
            connection.rollback()
    return False


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_0006_adds_and_drops_its_columns_in_place_and_the_guard_follows(db_url, settings, images):
    migrate(db_url, "head")
    with Session(get_engine(db_url), expire_on_commit=False) as session:
        add_sana(session)
        violation = record(session, settings, images)
        lifecycle.approve_violation(
            session, violation_id=violation.id, officer="insp.sana", settings=settings
        )
        session.commit()
    records = rows(db_url)
    assert refuses(db_url, "UPDATE challans SET officer_badge = 'X-1'")

    migrate(db_url, "0005", down=True)
    for table, added in COLUMNS_0006.items():
        present = {c["name"] for c in sa.inspect(get_engine(db_url)).get_columns(table)}
        assert present.isdisjoint(added) and set(added) <= set(ADDED_LATER[table])
    kept = rows(db_url)  # the tables of 0005 (later revisions' own tables go with them)
    assert kept == {table: records[table] for table in kept} and kept["challans"]
    assert refuses(db_url, "UPDATE challans SET fine_pkr = 1")

    migrate(db_url, "head")
    again = rows(db_url)
    assert {table: again[table] for table in kept} == kept
    assert refuses(db_url, "UPDATE challans SET fine_pkr = 1")
    assert refuses(db_url, "UPDATE challans SET late_fine_pkr = 1")
    assert not refuses(db_url, "UPDATE challans SET decision_reason = 'a note'")  # not a term
