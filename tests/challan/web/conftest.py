"""The portal on a real records database (SQLite and PostgreSQL, from tests/challan/conftest.py),
seeded the way the system fills it: a registered vehicle, violations recorded from vehicle events,
two challans issued by an officer (one still inside the contest window, one long past it) and one
violation pending review; two officer accounts."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from challan import crud, lifecycle, users
from challan.models import VehicleCreate
from challan.web.app import create_app
from challan.web.settings import PortalSettings
from tests.challan.conftest import OFFENCE_AT, record

OWNER = VehicleCreate(
    plate="LEH5789",
    vehicle_class="car",
    owner_name="Ayesha Siddiqui",
    owner_cnic="35202-7654321-8",
    owner_address="14 Mozang Road, Lahore",
    make="Suzuki Cultus",
    colour="Silver",
)
OFFICER = ("insp.sana", "review-pass-2026")
ADMIN = ("chief", "admin-pass-2026!")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Seed:
    number: str  # issued today to LEH5789 (registered owner), contestable
    old_number: str  # issued to LEH5789 on 15 Mar 2026: the contest window closed long ago
    pending_id: int  # read as LEH5780 by the camera, waiting for review
    evidence_ids: tuple[int, ...]  # the contestable challan's evidence files


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """argon2 with test-sized costs (the real ones take ~0.1 s a hash on this machine)."""
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def settings(db_url, tmp_path) -> PortalSettings:
    """Overrides the records' settings fixture: the portal's one Settings class, same database."""
    return PortalSettings(
        database_url=db_url,
        evidence_dir=tmp_path / "evidence",
        public_url="https://echallan.example.pk/",
        secret_key="a test secret key, long enough",
        lookups_per_minute=1000,
        logins_per_minute=1000,
    )


@pytest.fixture
def seed(session, settings, images) -> Seed:
    crud.save_vehicle(session, data=OWNER, actor="test")
    fresh = record(session, settings, images, track_id=1)
    challan = lifecycle.approve_violation(
        session, violation_id=fresh.id, officer="insp.sana", settings=settings
    )
    old = record(session, settings, images, track_id=2, at=OFFENCE_AT - timedelta(days=1))
    old_challan = lifecycle.approve_violation(
        session,
        violation_id=old.id,
        officer="insp.sana",
        settings=settings,
        now=OFFENCE_AT + timedelta(days=1),
    )
    pending = record(
        session,
        settings,
        images,
        plate="LEH5780",
        year="07",
        track_id=3,
        code="OVER_SPEED",
        details={"speed_kmh": 78.4, "limit_kmh": 60},
    )
    for name, password in (OFFICER, ADMIN):
        role = users.Role.ADMIN if name == ADMIN[0] else users.Role.OFFICER
        users.add_officer(session, username=name, password=password, role=role, actor="test")
    session.commit()
    return Seed(
        number=challan.number,
        old_number=old_challan.number,
        pending_id=pending.id,
        evidence_ids=tuple(e.id for e in fresh.evidence),
    )


@pytest.fixture
def client(settings, seed):
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield client


def csrf_token(client: TestClient, path: str = "/") -> str:
    """The CSRF token a page hands its forms (and the cookie it sets along with it)."""
    response = client.get(path)
    match = CSRF_INPUT.search(response.text)
    assert match, f"no CSRF field on {path} ({response.status_code})"
    return match.group(1)


def login(client: TestClient, username: str, password: str):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/officer/review"},
        follow_redirects=False,
    )


def bearer(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/login/access-token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def portal_server(
    settings: PortalSettings, port: int | None = None, log_level: str = "warning"
) -> Iterator[str]:
    """The portal under uvicorn on 127.0.0.1 (a free port unless given), in a thread; yields its
    address and stops it when the block ends."""
    port = port or free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level=log_level, server_header=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the portal did not start"
        assert time.monotonic() < deadline, "the portal took over 30 s to start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
