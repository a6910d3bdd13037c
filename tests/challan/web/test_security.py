"""Headers, static files, rate limits and the token machinery, on their own and through the app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from challan import users
from challan.db import get_engine
from challan.users import Officer
from challan.web.app import create_app
from challan.web.routes.auth import safe_next
from challan.web.security import Tokens
from tests.challan.conftest import _forget
from tests.challan.web.conftest import OFFICER, bearer, login


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.db'}"
    yield url
    _forget(url)


def test_security_headers_on_pages_api_and_static(client, seed):
    for path in ("/", "/api/v1/challans?plate=LEH5789", "/static/portal.css", "/no/such/page"):
        headers = client.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'none'"), path
        assert (headers["x-content-type-options"], headers["x-frame-options"]) == ("nosniff", "DENY"), path
        assert headers["referrer-policy"] == "same-origin"
    assert client.get("/").headers["cache-control"] == "no-store"
    assert "cache-control" not in client.get("/static/portal.css").headers
    assert "set-cookie" not in client.get("/api/v1/challans?plate=LEH5789").headers  # the API sets no cookies


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2f..%2fweb%2fsettings.py",
        "/static/%2e%2e/%2e%2e/settings.py",
        "/static/..%5c..%5csettings.py",
        "/static/portal.css%00.py",
    ],
)
def test_static_files_refuse_path_traversal(client, seed, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "PortalSettings" not in response.text


def test_oversized_bodies_are_refused_before_they_are_read(client, seed):
    response = client.post(f"/api/v1/challans/{seed.number}/contest", content=b"x" * (64 * 1024 + 1))
    assert (response.status_code, response.json()) == (413, {"detail": "Request body too large"})
    assert response.headers["x-frame-options"] == "DENY"


def test_lookups_are_rate_limited_per_address(settings, seed):
    limited = settings.model_copy(update={"lookups_per_minute": 3})
    with TestClient(create_app(limited)) as client:
        codes = [client.get("/api/v1/challans", params={"plate": "LEH5789"}).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        refused = client.get("/api/v1/challans", params={"plate": "LEH5789"})
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Too many requests from your address; try again in 20 s"}
        assert refused.headers["retry-after"] == "20"
        page = client.get("/challans", params={"plate": "LEH5789"})
        assert page.status_code == 429 and "Too many requests" in page.text
        assert client.get("/").status_code == 200  # the home page and officer pages are not look-ups


def test_logins_are_rate_limited(settings, seed):
    with TestClient(create_app(settings.model_copy(update={"logins_per_minute": 2}))) as client:
        codes = [
            client.post("/api/v1/login/access-token", data={"username": "x", "password": "y"}).status_code
            for _ in range(3)
        ]
        assert codes == [401, 401, 429]


def test_tokens_do_not_cross_purposes_and_die_with_the_password(settings):
    tokens = Tokens(settings)
    officer = Officer(id=7, username="x", role="officer", password_hash="$argon2id$one")
    api = tokens.api_token(officer)
    assert tokens.read_api_token(api).matches(officer)
    assert tokens.read_api_token(tokens.csrf_form_token("c" * 20)) is None  # a CSRF token is not one
    officer.password_hash = "$argon2id$two"
    assert not tokens.read_api_token(api).matches(officer)
    other = Tokens(settings.model_copy(update={"secret_key": "another secret key entirely"}))
    assert other.read_api_token(api) is None


def test_csrf_tokens_are_bound_to_the_cookie_and_the_session(settings):
    tokens = Tokens(settings)
    form = tokens.csrf_form_token("v" * 32)
    assert tokens.csrf_valid(cookie_value="v" * 32, submitted=form, bound=None)
    assert tokens.csrf_valid(cookie_value="v" * 32, submitted=form, bound="v" * 32)
    assert not tokens.csrf_valid(cookie_value="w" * 32, submitted=form, bound=None)
    assert not tokens.csrf_valid(cookie_value="v" * 32, submitted=form, bound="w" * 32)
    assert not tokens.csrf_valid(cookie_value="v" * 32, submitted="v" * 32, bound=None)  # unsigned
    assert not tokens.csrf_valid(cookie_value=None, submitted=form, bound=None)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/officer/contests", "/officer/contests"),
        ("//evil.example/x", "/officer/review"),
        ("https://evil.example/", "/officer/review"),
        ("/\\evil.example", "/officer/review"),
        ("", "/officer/review"),
    ],
)
def test_login_redirects_only_to_this_site(given, expected):
    assert safe_next(given) == expected


def test_a_disabled_officer_loses_session_and_token(client, seed, settings):
    auth = bearer(client, *OFFICER)
    login(client, *OFFICER)
    assert client.get("/api/v1/officers/me", headers=auth).json()["username"] == "insp.sana"
    with Session(get_engine(settings.database_url)) as session:
        users.set_active(session, username="insp.sana", active=False, actor="test")
        session.commit()
    assert client.get("/api/v1/officers/me", headers=auth).status_code == 401
    assert client.get("/officer/review", follow_redirects=False).status_code == 303
    assert login(client, *OFFICER).status_code == 401
