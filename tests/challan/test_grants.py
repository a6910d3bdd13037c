"""The least-privilege PostgreSQL role, on the real server: as it, the application does its work
(record, approve, pay, contest, sign in and out) and cannot switch off, drop or get round what guards
the records; a database behind the code is a one-line error naming who must migrate it."""

import uuid

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import Session

from challan import grants, lifecycle, users
from challan.audit import verify_audit
from challan.db import DatabaseUnavailable, check_ready, get_engine, session_scope
from challan.settings import Settings
from challan.web import sessions
from tests.challan.conftest import _forget, record
from tests.challan.test_audit_migration import migrate
from tests.challan.test_migrations import HEAD

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def app_url(db_url):
    """The URL of a fresh application role granted on the test's schema (dropped afterwards)."""
    role = f"anpr_app_{uuid.uuid4().hex[:10]}"
    assert grants.grant_app_role(db_url, role) is True
    assert grants.grant_app_role(db_url, role) is False  # again (after a later migration): grants only
    url = sa.make_url(db_url).set(username=role).render_as_string(hide_password=False)
    yield url
    _forget(url)
    with get_engine(db_url).begin() as connection:
        connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
        connection.exec_driver_sql(f'DROP ROLE "{role}"')


def test_the_application_role_does_the_applications_work(app_url, settings, images):
    settings = Settings(**(settings.model_dump() | {"database_url": app_url}))
    with session_scope(app_url) as session:
        users.add_officer(
            session, username="insp.sana", password="review-pass-2026", role="officer", actor="cli"
        )
    with Session(get_engine(app_url), expire_on_commit=False) as session:
        assert session.exec(sa.text("SELECT current_user")).one()[0] == sa.make_url(app_url).username
        assert users.sign_in(session, username="insp.sana", password="wrong password!") is None
        officer = users.sign_in(session, username="insp.sana", password="review-pass-2026")
        token = sessions.start(session, officer=officer, csrf="x" * 32)
        assert sessions.revoke(session, token)
        session.commit()
        paid = lifecycle.approve_violation(
            session, violation_id=record(session, settings, images).id, officer="insp.sana", settings=settings
        )
        lifecycle.record_payment(session, number=paid.number, reference="HBL-778812")
        contested = lifecycle.approve_violation(
            session,
            violation_id=record(session, settings, images, track_id=2).id,
            officer="insp.sana",
            settings=settings,
        )
        lifecycle.contest_challan(
            session, number=contested.number, reason="not me", cnic=None, settings=settings
        )
        lifecycle.cancel_challan(session, number=contested.number, officer="insp.sana", reason="misread")
        users.set_active(session, username="insp.sana", active=False, actor="cli")
        session.commit()
        assert (paid.violation.status, contested.violation.status) == ("paid", "cancelled")
        report = verify_audit(session)
        assert report.intact, report.to_json()


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("DROP TRIGGER challans_fixed_terms ON challans", "must be owner of (relation|table) challans"),
        ("ALTER TABLE challans DISABLE TRIGGER ALL", "must be owner of (relation|table) challans"),
        ("ALTER TABLE challans ADD COLUMN waived boolean", "must be owner of (relation|table) challans"),
        (
            "SET session_replication_role = replica",
            'permission denied to set parameter "session_replication_role"',
        ),
        ("SET LOCAL session_replication_role = replica", "permission denied to set parameter"),
        ("TRUNCATE audit_log", "permission denied for (relation|table) audit_log"),
        ("DELETE FROM violations", "permission denied for (relation|table) violations"),
        ("UPDATE audit_log SET actor = 'x'", "permission denied for (relation|table) audit_log"),
        ("UPDATE audit_chain SET digest = prev_digest", "permission denied for (relation|table) audit_chain"),
        (
            "UPDATE alembic_version SET version_num = '0001'",
            "permission denied for (relation|table) alembic_version",
        ),
        ("CREATE TABLE shadow (id int)", "permission denied for schema"),
        ("UPDATE challans SET fine_pkr = 1", "UPDATE of challans 1 refused"),
        ("UPDATE officers SET role = 'admin'", "UPDATE of officers 1 refused"),
    ],
)
def test_the_application_role_cannot_get_round_the_guards(
    app_url, db_url, settings, images, statement, refusal
):
    with Session(get_engine(db_url), expire_on_commit=False) as owner:
        users.add_officer(
            owner, username="insp.sana", password="review-pass-2026", role="officer", actor="cli"
        )
        lifecycle.approve_violation(
            owner, violation_id=record(owner, settings, images).id, officer="insp.sana", settings=settings
        )
        owner.commit()
    with get_engine(app_url).connect() as connection:
        with pytest.raises(sa.exc.DBAPIError, match=refusal):
            connection.exec_driver_sql(statement)
        connection.rollback()
        assert connection.exec_driver_sql("SHOW session_replication_role").scalar() == "origin"
        assert connection.exec_driver_sql("SELECT fine_pkr FROM challans").scalar() == 5000


def test_a_database_behind_the_code_is_one_line_naming_the_owner(app_url, db_url):
    migrate(db_url, "0003", down=True)  # as if the code were upgraded and the database not yet
    _forget(app_url)
    with pytest.raises(DatabaseUnavailable) as refused:
        check_ready(app_url)
    message = str(refused.value)
    assert message.startswith(
        f"the records database {sa.make_url(app_url).render_as_string(hide_password=True)} is at revision"
        f" 0003, this code needs {HEAD}, and migrating it failed (permission denied for schema"
    )
    assert message.endswith("): migrations run as the database's owner ('anpr db upgrade')")
    assert "\n" not in message
    check_ready(db_url)  # the owner can
    check_ready(app_url)


def test_grant_app_role_refuses_a_bad_name_and_sqlite(db_url, tmp_path):
    with pytest.raises(grants.InputError, match="role name 'app; DROP TABLE x' is not"):
        grants.grant_app_role(db_url, "app; DROP TABLE x")
    with pytest.raises(grants.InputError, match="database roles are PostgreSQL's"):
        grants.grant_app_role(f"sqlite:///{tmp_path / 'records.db'}", "anpr_app")
