"""Officer sessions kept on the server: signing out ends every copy of the cookie, idle and old
sessions are refused, and failed sign-ins back off per account whatever address they come from."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from challan.db import get_engine
from challan.models import LoginFailure, OfficerSession, utcnow
from challan.web.app import create_app
from challan.web.settings import PortalSettings
from tests.challan.web.conftest import OFFICER, csrf_token, login

SESSION = "anpr_session"


def rows(settings, model):
    with Session(get_engine(settings.database_url)) as session:
        return list(session.exec(select(model)))


def age(settings, model, field: str, by: timedelta) -> None:
    """Move a time in the records back by `by`, as if that long had passed."""
    with Session(get_engine(settings.database_url)) as session:
        for row in session.exec(select(model)):
            setattr(row, field, getattr(row, field) - by)
        session.commit()


def test_a_copied_cookie_opens_nothing_after_sign_out(client, seed, settings):
    assert login(client, *OFFICER).status_code == 303
    copied = client.cookies[SESSION]
    assert client.get("/officer/review").status_code == 200
    [stored] = rows(settings, OfficerSession)
    assert stored.token_hash == hashlib.sha256(copied.encode()).hexdigest()  # the id itself is not kept
    assert copied not in stored.model_dump_json()

    out = client.post("/logout", data={"csrf_token": csrf_token(client, "/officer/review")})
    assert out.status_code == 200 and "Officer sign-in" in out.text

    client.cookies.clear()
    client.cookies.set(SESSION, copied)
    for path in ("/officer/review", f"/officer/violations/{seed.pending_id}"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, f"/login?next={path}")
    assert client.get(f"/officer/evidence/{seed.evidence_ids[0]}").status_code == 401
    page = client.get(f"/challans/{seed.number}")
    assert page.status_code == 200 and "Ayesha Siddiqui" not in page.text  # no owner data
    [revoked] = rows(settings, OfficerSession)
    assert revoked.revoked_at is not None


def test_an_idle_session_is_refused(client, seed, settings):
    login(client, *OFFICER)
    assert client.get("/officer/review").status_code == 200
    age(settings, OfficerSession, "last_seen_at", timedelta(minutes=29))
    assert client.get("/officer/review").status_code == 200  # used again: the idle clock restarts
    age(settings, OfficerSession, "last_seen_at", timedelta(minutes=31))
    response = client.get("/officer/review", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/officer/review")


def test_a_session_older_than_its_hours_is_refused_even_in_use(client, seed, settings):
    login(client, *OFFICER)
    age(settings, OfficerSession, "created_at", timedelta(hours=8, minutes=1))
    assert client.get("/officer/review", follow_redirects=False).status_code == 303


def test_the_idle_limit_is_read_from_the_environment():
    assert PortalSettings.from_env({}).session_idle_minutes == 30
    assert PortalSettings.from_env({"ANPR_SESSION_IDLE_MINUTES": "5"}).session_idle_minutes == 5


def attempt(app, address: str, username: str, password: str):
    with TestClient(app, client=(address, 40000)) as client:
        return login(client, username, password)


def test_an_account_backs_off_after_failures_from_many_addresses(settings, seed):
    app = create_app(settings)  # 1000 logins a minute per address: only the account's back-off acts
    failures = [attempt(app, f"10.9.0.{i}", OFFICER[0], "wrong password 2026").status_code for i in range(5)]
    assert failures == [401] * 5
    refused = attempt(app, "10.9.1.1", OFFICER[0], OFFICER[1])  # the right password, a new address
    assert refused.status_code == 429 and refused.headers["retry-after"] in ("59", "60")
    assert "Too many failed sign-ins for this account" in refused.text
    with TestClient(app, client=("10.9.1.2", 40000)) as api:
        token = api.post("/api/v1/login/access-token", data={"username": OFFICER[0], "password": OFFICER[1]})
        assert token.status_code == 429 and "Too many failed sign-ins" in token.json()["detail"]
    assert len(rows(settings, LoginFailure)) == 5  # refused attempts are not counted

    age(settings, LoginFailure, "at", timedelta(seconds=61))
    assert attempt(app, "10.9.1.3", OFFICER[0], "wrong again 2026").status_code == 401
    longer = attempt(app, "10.9.1.4", OFFICER[0], OFFICER[1])
    assert longer.status_code == 429 and 110 <= int(longer.headers["retry-after"]) <= 120  # doubled

    age(settings, LoginFailure, "at", timedelta(seconds=121))
    assert attempt(app, "10.9.1.5", OFFICER[0], OFFICER[1]).status_code == 303
    assert rows(settings, LoginFailure) == []  # a success forgets the failures


def test_an_unknown_name_backs_off_like_a_real_one(settings, seed):
    app = create_app(settings)
    for name in ("insp.sana", "no.such.officer"):
        codes = [attempt(app, f"10.8.0.{i}", name, "wrong password 2026").status_code for i in range(6)]
        assert codes == [401] * 5 + [429], name


@pytest.fixture
def officer_failures(settings, seed):
    with Session(get_engine(settings.database_url)) as session:
        for minutes in range(5):
            session.add(
                LoginFailure(username="insp.sana", at=utcnow() - timedelta(hours=25, minutes=minutes))
            )
        session.commit()


def test_failures_older_than_a_day_do_not_count(client, officer_failures):
    assert login(client, *OFFICER).status_code == 303


def test_ended_sessions_and_old_failed_sign_ins_are_deleted_by_the_hourly_timer(client, seed, settings):
    """The retention timer also deletes sessions begun over 30 days ago and failed sign-ins over a
    day old (nothing reads them any more), even with the sightings' retention off; a current
    session and today's failures stay, and the current session still opens the review queue."""
    from challan import retention, users

    login(client, *OFFICER)
    with TestClient(create_app(settings)) as other:
        other.post(
            "/login", data={"username": "nobody", "password": "x" * 12, "csrf_token": csrf_token(other)}
        )
    age(settings, OfficerSession, "created_at", timedelta(days=31))
    age(settings, LoginFailure, "at", timedelta(days=2))
    login(client, *OFFICER)  # a fresh session beside the old one
    with TestClient(create_app(settings)) as other:
        other.post(
            "/login", data={"username": "nobody", "password": "x" * 12, "csrf_token": csrf_token(other)}
        )
    assert (len(rows(settings, OfficerSession)), len(rows(settings, LoginFailure))) == (2, 2)

    off = settings.model_copy(update={"sighting_retention_hours": 0})
    timer = retention.PurgeTimer(get_engine(settings.database_url), off, every_s=3600, first_after_s=0.01)
    timer.start()
    try:
        deadline = utcnow() + timedelta(seconds=30)
        while len(rows(settings, OfficerSession)) > 1 and utcnow() < deadline:
            time.sleep(0.05)
    finally:
        timer.stop()
    [kept] = rows(settings, OfficerSession)
    assert utcnow() - kept.created_at < timedelta(minutes=5)
    [failure] = rows(settings, LoginFailure)
    assert utcnow() - failure.at < timedelta(minutes=5)
    assert client.get("/officer/review").status_code == 200
    with Session(get_engine(settings.database_url)) as session:
        assert users.housekeep(session) == {"sessions": 0, "login_failures": 0}


def test_a_session_longer_than_it_is_kept_is_refused():
    with pytest.raises(ValueError, match="session_hours"):
        PortalSettings(session_hours=24 * 31)


# --- signing an account out everywhere ------------------------------------------------------------


def test_an_officer_signs_out_everywhere_and_every_token_and_session_stops(client, seed, settings):
    """A phone with a bearer token on it is lost: the officer ends every token and session at once,
    keeps the password, and signs in again."""
    from tests.challan.web.conftest import bearer

    lost, laptop = bearer(client, *OFFICER), bearer(client, *OFFICER)
    assert login(client, *OFFICER).status_code == 303
    assert client.get("/officer/review").status_code == 200
    assert client.get("/api/v1/officers/me", headers=lost).status_code == 200
    assert client.post("/api/v1/officers/me/sign-out", headers=laptop).status_code == 204
    for token in (lost, laptop):
        response = client.get("/api/v1/officers/me", headers=token)
        assert (response.status_code, response.json()["detail"]) == (401, "Invalid or expired token")
    assert client.get("/officer/review", follow_redirects=False).status_code in (302, 303)
    fresh = bearer(client, *OFFICER)  # the password still works
    assert client.get("/api/v1/officers/me", headers=fresh).json()["username"] == OFFICER[0]
    [entry] = [e for e in audit_entries(settings) if e.action == "sign-out"]
    assert (entry.actor, entry.changes) == (f"officer:{OFFICER[0]}", {"sign_outs": [0, 1]})


def test_an_admin_signs_another_account_out_and_only_that_one(client, seed):
    from tests.challan.web.conftest import ADMIN, bearer

    admin, officer = bearer(client, *ADMIN), bearer(client, *OFFICER)
    assert client.post(f"/api/v1/officers/{ADMIN[0]}/sign-out", headers=officer).status_code == 403
    assert client.post("/api/v1/officers/nobody/sign-out", headers=admin).status_code == 404
    assert client.post(f"/api/v1/officers/{OFFICER[0]}/sign-out", headers=admin).status_code == 204
    assert client.get("/api/v1/officers/me", headers=officer).status_code == 401
    assert client.get("/api/v1/officers/me", headers=admin).status_code == 200


def test_the_command_signs_an_account_out_and_names_a_wrong_one_in_one_line(
    client, seed, settings, capsys, monkeypatch
):
    from tests.challan.web.conftest import bearer
    from tests.challan.web.ingest_support import run_anpr

    token = bearer(client, *OFFICER)
    db = settings.database_url
    code, out, _ = run_anpr(
        capsys, monkeypatch, "officer", "sign-out", OFFICER[0], "--reason", "phone lost", "--db", db
    )
    assert (code, out) == (0, [f"officer {OFFICER[0]} signed out everywhere"])
    assert client.get("/api/v1/officers/me", headers=token).status_code == 401
    [entry] = [e for e in audit_entries(settings) if e.action == "sign-out"]
    assert (entry.actor, entry.reason) == ("cli", "phone lost")
    code, _, err = run_anpr(capsys, monkeypatch, "officer", "sign-out", "nobody", "--db", db)
    assert (code, err) == (3, ["error: no officer named 'nobody'"])


def audit_entries(settings):
    from challan.models import AuditEntry

    return rows(settings, AuditEntry)
