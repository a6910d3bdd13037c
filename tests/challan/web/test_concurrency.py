"""Officers approving the same violation at the same moment, through a real portal (uvicorn, its
thread pool) on a SQLite file and on PostgreSQL: one challan, and every other request a clean 409,
never a 500. A database that stays locked is a 503 in words."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from challan.db import get_engine
from challan.models import Challan, OfficerSession
from challan.web.app import BUSY
from tests.challan.web.conftest import CSRF_INPUT, OFFICER, bearer, login, portal_server

THREADS = 8


@pytest.fixture
def portal(settings, seed):
    with portal_server(settings, log_level="critical") as url:
        yield url


def together(requests: list) -> list[httpx.Response]:
    """Send each request (a function of an httpx.Client) on its own thread, released together."""
    barrier = threading.Barrier(len(requests))
    responses: list[httpx.Response | None] = [None] * len(requests)

    def run(i: int) -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            responses[i] = requests[i](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in responses)
    return responses  # type: ignore[return-value]


def test_concurrent_approvals_give_one_challan_and_clean_refusals(portal, seed, settings):
    with httpx.Client(base_url=portal) as officer:
        token = officer.post(
            "/api/v1/login/access-token", data={"username": OFFICER[0], "password": OFFICER[1]}
        )
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        csrf = CSRF_INPUT.search(officer.get("/login").text).group(1)
        officer.post("/login", data={"username": OFFICER[0], "password": OFFICER[1], "csrf_token": csrf})
        form_token = CSRF_INPUT.search(officer.get("/officer/review").text).group(1)
        cookies = dict(officer.cookies)
    approve = f"{portal}/api/v1/violations/{seed.pending_id}/approve"
    page = f"{portal}/officer/review/{seed.pending_id}/approve"

    def by_api(client: httpx.Client) -> httpx.Response:
        return client.post(approve, json={}, headers=auth)

    def by_page(client: httpx.Client) -> httpx.Response:
        client.cookies.update(cookies)
        return client.post(page, data={"csrf_token": form_token}, headers={"origin": portal})

    responses = together([by_api, by_page] * (THREADS // 2))
    codes = Counter(r.status_code for r in responses)
    assert codes[500] == 0 and codes[200] + codes[303] == 1 and codes[409] == THREADS - 1, codes
    with Session(get_engine(settings.database_url)) as session:
        [challan] = session.exec(select(Challan).where(Challan.violation_id == seed.pending_id)).all()
    refusal = f"violation {seed.pending_id} (challan {challan.number}) is issued; only a pending violation"
    for response in responses:
        if response.status_code == 409:
            text = response.json()["detail"] if response.url.path.startswith("/api/") else response.text
            assert refusal in text and "Traceback" not in text


@pytest.fixture
def short_busy_timeout(settings, db_url):
    """The portal's SQLite connections wait 0.2 s for a lock instead of 5."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's database lock")
    engine = get_engine(db_url)
    sa.event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=200"))
    engine.dispose()


def test_a_locked_database_is_a_503_in_words(client, seed, settings, db_url, short_busy_timeout):
    auth = bearer(client, *OFFICER)
    login(client, *OFFICER)
    with Session(get_engine(db_url)) as session:  # a minute on: the next page records the visit
        for row in session.exec(select(OfficerSession)):
            row.last_seen_at -= timedelta(minutes=2)
        session.commit()
    blocker = sa.create_engine(db_url).connect()
    blocker.exec_driver_sql("BEGIN IMMEDIATE")  # a long write elsewhere (a registry import, say)
    try:
        page = client.get("/officer/review")
        approve = client.post(f"/api/v1/violations/{seed.pending_id}/approve", json={}, headers=auth)
    finally:
        blocker.exec_driver_sql("ROLLBACK")
        blocker.close()
    assert (page.status_code, page.headers["retry-after"]) == (503, "1")
    assert BUSY in page.text and "Traceback" not in page.text
    assert (approve.status_code, approve.headers["retry-after"]) == (503, "1")
    assert approve.json()["detail"].startswith("the records are busy with another change")
    assert (
        client.post(f"/api/v1/violations/{seed.pending_id}/approve", json={}, headers=auth).status_code == 200
    )
