"""The officers' alerts page: officers only; the latest alerts with their images (checked, never a
server path); a server-sent event stream of the alerts raised since, which a signed-out browser
cannot follow; and, in a real Chromium, a new alert appearing on the open page without a reload."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from anpr.types import Candidate, PlateRead, VehicleEvent
from challan import alerts, hotlists, users
from challan.db import get_engine, init_db
from challan.evidence import store_file
from challan.web.routes import alerts as alerts_route
from challan.web.settings import PortalSettings
from tests.challan.conftest import OFFENCE_AT, _forget
from tests.challan.web.conftest import OFFICER, login, portal_server
from tests.challan.web.test_browser import CHROMIUM, CHROMIUM_ARGS

EVENT = re.compile(r"id: (\d+)\nevent: alert\ndata: (.+)\n\n")


def raise_alert(session, settings, images, *, plate: str = "LEB5789", track: int = 1, minutes: int = 0):
    """A camera reading a listed plate: the alert as the pipeline stores it, with its images."""
    if not hotlists.list_entries(session, list_name="stolen"):
        hotlists.add_entry(session, plate=plate, list_name="stolen", reason="stolen 19 Nov", actor="t")
    shots = (
        store_file(images["plate_crop"], root=settings.evidence_dir, kind="plate_crop"),
        store_file(images["scene_at"], root=settings.evidence_dir, kind="scene_at"),
    )
    at = OFFENCE_AT + timedelta(minutes=minutes)
    event = VehicleEvent(
        site_id="lhr-mall-road-01",
        track_id=track,
        vehicle_type="car",
        first_seen=at,
        last_seen=at,
        plate=PlateRead(plate, 0.9, (Candidate(plate, 0.9),)),
    )
    spotted = alerts.Spotted(event, at, "pk")
    [alert] = alerts.store(session, spotted=spotted, raised=alerts.check(session, spotted), evidence=shots)
    session.commit()
    return alert


def test_the_page_is_for_officers_and_shows_the_alerts_without_server_paths(
    client, session, settings, images
):
    alert = raise_alert(session, settings, images)
    assert client.get("/officer/alerts", follow_redirects=False).headers["location"] == (
        "/login?next=/officer/alerts"
    )
    assert client.get(f"/officer/alerts/{alert.id}/evidence/0", follow_redirects=False).status_code == 303

    login(client, *OFFICER)
    page = client.get("/officer/alerts")

    assert page.status_code == 200
    assert '<a href="/officer/alerts">Alerts</a>' in page.text
    row = re.search(r'<tr class="alert-row kind-stolen" data-id="(\d+)">(.+?)</tr>', page.text, re.S)
    assert row and int(row.group(1)) == alert.id
    assert (
        "LEB5789" in row.group(2)
        and "stolen 19 Nov" in row.group(2)
        and "14 Mar 2026, 17:42:09 PKT" in page.text
    )
    assert str(settings.evidence_dir) not in page.text and alert.evidence[0]["path"] not in page.text
    crop = client.get(f"/officer/alerts/{alert.id}/evidence/0")
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/png"
    assert crop.content == images["plate_crop"].read_bytes()
    assert client.get(f"/officer/alerts/{alert.id}/evidence/2").status_code == 404


def test_a_changed_evidence_file_is_never_served(client, session, settings, images):
    alert = raise_alert(session, settings, images)
    (settings.evidence_dir / alert.evidence[1]["path"]).write_bytes(b"not the scene")
    login(client, *OFFICER)
    refused = client.get(f"/officer/alerts/{alert.id}/evidence/1")
    assert refused.status_code == 409 and "integrity check" in refused.text
    assert str(settings.evidence_dir) not in refused.text


def test_the_stream_sends_the_alerts_after_the_last_one_seen(client, session, settings, images, monkeypatch):
    monkeypatch.setattr(alerts_route, "STREAM_S", 0.6)
    monkeypatch.setattr(alerts_route, "POLL_S", 0.1)
    first = raise_alert(session, settings, images, track=1)
    second = raise_alert(session, settings, images, track=2, minutes=5)

    assert client.get("/officer/alerts/stream").status_code == 401  # no session: EventSource stops
    login(client, *OFFICER)
    everything = client.get("/officer/alerts/stream")
    resumed = client.get("/officer/alerts/stream?after=0", headers={"Last-Event-ID": str(first.id)})

    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("text/event-stream")
    assert everything.text.startswith("retry: 1000\n\n")
    sent = EVENT.findall(everything.text)
    assert [int(i) for i, _ in sent] == [first.id, second.id]
    card = json.loads(sent[1][1])
    assert (card["kind"], card["plate"], card["match"], card["track_id"]) == ("stolen", "LEB5789", "exact", 2)
    assert card["evidence"] == [
        {"kind": "plate_crop", "url": f"/officer/alerts/{second.id}/evidence/0"},
        {"kind": "scene_at", "url": f"/officer/alerts/{second.id}/evidence/1"},
    ]
    assert "path" not in sent[1][1] and "sha256" not in sent[1][1]
    assert [int(i) for i, _ in EVENT.findall(resumed.text)] == [second.id]


# --- in a real browser -------------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path, images):
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    settings = PortalSettings(
        database_url=f"sqlite:///{tmp_path / 'records.db'}",
        evidence_dir=tmp_path / "evidence",
        secret_key="browser test secret key",
    )
    init_db(settings.database_url)
    with Session(get_engine(settings.database_url)) as session:
        users.add_officer(session, username=OFFICER[0], password=OFFICER[1], role="officer", actor="test")
        session.commit()
    with portal_server(settings) as url:
        yield settings, url
    _forget(settings.database_url)


@pytest.mark.slow
def test_a_new_alert_appears_on_the_open_page_without_a_reload(live, images):
    from playwright.sync_api import sync_playwright

    settings, url = live
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(url + "/login?next=/officer/alerts")
        page.fill("input[name=username]", OFFICER[0])
        page.fill("input[name=password]", OFFICER[1])
        page.click("form button[type=submit]")
        page.wait_for_url("**/officer/alerts")
        assert page.locator("#alerts-body tr").count() == 0
        loads = []
        page.on("load", lambda _: loads.append(1))

        with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
            alert = raise_alert(session, settings, images)
        page.wait_for_selector(f'#alerts-body tr[data-id="{alert.id}"]', timeout=10_000)

        row = page.inner_text(f'#alerts-body tr[data-id="{alert.id}"]')
        assert "LEB5789" in row and "stolen 19 Nov" in row and "exact" in row.lower()
        page.wait_for_function("[...document.querySelectorAll('#alerts-body img')].every(i => i.complete)")
        widths = page.eval_on_selector_all("#alerts-body img", "imgs => imgs.map(i => i.naturalWidth)")
        assert loads == [] and problems == []  # no reload, no script or CSP error
        if os.environ.get("ANPR_SCREENSHOTS"):
            page.screenshot(path=Path(os.environ["ANPR_SCREENSHOTS"]) / "officer-alerts.png", full_page=True)
        browser.close()
    assert len(widths) == 2 and all(w > 0 for w in widths)  # the images, checked and served
