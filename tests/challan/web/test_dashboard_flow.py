"""Traffic flow on the officers' dashboard: per site, the vehicles per interval stacked by class and a
histogram of their speeds, drawn from sightings stored the way the cameras store them (SQLite and
PostgreSQL), with the numbers as tables; empty states; officers only (the panel and /api/v1/flow,
whose rows are those of `anpr flow --json`); and, in a real Chromium, the open dashboard updating
itself when a camera stores a new sighting, pausing while the tab is hidden, on desktop and phone."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from anpr.types import VehicleEvent
from challan import users
from challan.db import get_engine, init_db
from challan.sightings import record_sighting
from challan.web.routes import flow as flow_route
from challan.web.settings import PortalSettings
from tests.challan.conftest import _forget
from tests.challan.web.conftest import OFFICER, bearer, login, portal_server
from tests.challan.web.test_browser import CHROMIUM, CHROMIUM_ARGS

ZONE = ZoneInfo("Asia/Karachi")
QUARTER = timedelta(minutes=15)
SEGMENT = re.compile(
    r'<rect class="seg" [^>]*height="([\d.]+)" fill="[^"]+"><title>([^<]+): (\w+) (\d+)</title>'
)
BAND = re.compile(
    r'<rect class="band" [^>]*height="([\d.]+)" fill="[^"]+"><title>([^<]+) km/h: (\d+)</title>'
)
PLOT_H = 250 - 24 - 30  # charts.stacked_columns: height less the axis labels and the legend


def hour_now() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def store(session, site: str, at: datetime, kind: str, speed: float | None = None, track: int = 0) -> None:
    """A vehicle a camera followed, stored as its event closes (challan.sightings)."""
    event = VehicleEvent(site, track, kind, at, at + timedelta(seconds=4), speed_kmh=speed)
    record_sighting(session, event=event)
    session.commit()


def seed_traffic(session) -> datetime:
    """Regal Chowk two and one hour ago (the latest vehicle anywhere), the Canal three hours ago."""
    hour = hour_now()
    two, one = hour - timedelta(hours=2), hour - timedelta(hours=1)
    for track, (at, kind, speed) in enumerate(
        [
            (two + timedelta(minutes=5), "car", 40.0),
            (two + timedelta(minutes=20), "car", 50.0),
            (two + timedelta(minutes=40), "motorcycle", 60.0),
            (one + timedelta(minutes=10), "bus", None),
            (one + timedelta(minutes=30), "truck", 72.0),
        ]
    ):
        store(session, "LHR-REGAL-01", at, kind, speed, track)
    store(session, "LHR-CANAL-02", hour - timedelta(hours=3, minutes=-5), "rickshaw", None, 99)
    return hour


def name(start: datetime, step: timedelta = timedelta(hours=1)) -> str:
    """A column's title: the interval in local time."""
    local, end = start.astimezone(ZONE), (start + step).astimezone(ZONE)
    return f"{local:%d %b %H:%M}\u2013{end:%H:%M}"


def site_name(html: str) -> str:
    """The name the site selector gives Regal Chowk (config/places)."""
    return re.search(r'<option value="LHR-REGAL-01" selected>([^<]+)</option>', html).group(1)


def test_the_dashboard_plots_the_latest_sites_vehicles_by_class_and_their_speeds(client, session):
    hour = seed_traffic(session)
    login(client, *OFFICER)

    page = client.get("/officer/dashboard?interval=1h&hours=6")

    assert page.status_code == 200
    assert '<script src="/static/flow.js" defer></script>' in page.text
    assert '<option value="LHR-REGAL-01" selected>' in page.text  # the site that saw a vehicle last
    choice = "site=LHR-REGAL-01&amp;interval=1h&amp;hours=6"
    assert f'data-src="/officer/dashboard/flow?{choice}"' in page.text
    assert f'href="/officer/dashboard?days=7&amp;{choice}"' in page.text  # the other links keep it
    segments = {(title, kind): (float(h), int(n)) for h, title, kind, n in SEGMENT.findall(page.text)}
    two, one = name(hour - timedelta(hours=2)), name(hour - timedelta(hours=1))
    assert {key: n for key, (_, n) in segments.items()} == {
        (two, "car"): 2,
        (two, "motorcycle"): 1,
        (one, "bus"): 1,
        (one, "truck"): 1,
    }
    top = 3  # the tallest column: two cars and a motorcycle
    for h, n in segments.values():
        assert h == round(PLOT_H * n / top, 1)
    assert f'aria-label="Vehicles per 1 hour at {site_name(page.text)}, by class"' in page.text
    assert ">rickshaw<" not in page.text  # the Canal's vehicle is not in Regal Chowk's chart
    # 40, 50, 60 and 72 km/h (the bus had no speed): one in each band from 40 to 80, none below
    bands = [(label, int(n)) for _, label, n in BAND.findall(page.text)]
    assert bands == [(f"{10 * i}\u2013{10 * i + 10}", int(i >= 4)) for i in range(8)]
    assert 'class="mark"' in page.text and "85th 66.6" in page.text  # numpy's 85th of the four
    summary = re.search(r'<p class="flow-summary">(.+?)</p>', page.text, re.S).group(1)
    assert '<b id="flow-total">5</b> vehicles' in summary
    assert "(car 2, bus 1, motorcycle 1, truck 1)" in summary  # most first, then by name
    assert "mean speed <b>55.5</b> km/h, 85th percentile <b>66.6</b> km/h over 4 measured" in summary
    table = re.search(r'<table class="list flow-intervals">(.+?)</table>', page.text, re.S).group(1)
    rows = re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)</td>', table)
    local = [(hour - timedelta(hours=k)).astimezone(ZONE) for k in (1, 2)]
    assert rows == [(f"{local[0]:%d %b %H:%M}", "2"), (f"{local[1]:%d %b %H:%M}", "3")]  # newest first

    canal = client.get("/officer/dashboard/flow?site=LHR-CANAL-02&interval=15m&hours=6")
    assert canal.status_code == 200 and "<html" not in canal.text  # the panel alone, for flow.js
    quarter = hour - timedelta(hours=3)  # seen at five past: the first quarter of that hour
    assert [(t, k, n) for _, t, k, n in SEGMENT.findall(canal.text)] == [
        (name(quarter, QUARTER), "rickshaw", "1")
    ]
    assert "No speeds measured" in canal.text and 'class="band"' not in canal.text


def test_the_panel_and_the_api_are_for_officers_only(client, session, settings):
    hour = seed_traffic(session)
    panel = client.get("/officer/dashboard/flow", follow_redirects=False)
    assert panel.status_code == 303 and panel.headers["location"] == "/login?next=/officer/dashboard/flow"
    refused = client.get("/api/v1/flow")
    assert refused.status_code == 401 and refused.json() == {"detail": "Not authenticated"}
    assert client.get("/api/v1/flow", headers={"Authorization": "Bearer forged"}).status_code == 401

    since = (hour - timedelta(hours=2)).replace(tzinfo=None).isoformat()  # no offset: UTC, as the CLI
    rows = client.get(
        "/api/v1/flow",
        params={"site": "LHR-REGAL-01", "interval": "1h", "since": since},
        headers=bearer(client, *OFFICER),
    )

    from typer.testing import CliRunner

    from anpr.cli import cli

    command = ["flow", "--db", settings.database_url, "--json", "--interval", "1h", "--site", "LHR-REGAL-01"]
    printed = CliRunner().invoke(cli, [*command, "--since", since])
    assert printed.exit_code == 0, printed.output
    assert rows.status_code == 200
    assert rows.json() == [json.loads(line) for line in printed.stdout.splitlines()]
    assert [(r["start"], r["vehicles"], r["by_class"]) for r in rows.json()] == [
        ((hour - timedelta(hours=2)).isoformat(), 3, {"car": 2, "motorcycle": 1}),
        ((hour - timedelta(hours=1)).isoformat(), 2, {"bus": 1, "truck": 1}),
    ]


def test_empty_states_say_what_is_missing_and_draw_nothing(client, session):
    login(client, *OFFICER)
    nothing = client.get("/officer/dashboard")
    assert "No sightings yet" in nothing.text and 'class="seg"' not in nothing.text
    assert nothing.text.count("<svg") == 4  # the violations' charts only

    store(session, "LHR-CANAL-02", hour_now() - timedelta(hours=9), "car", None, 1)
    store(session, "LHR-CANAL-02", hour_now() - timedelta(hours=9, minutes=-3), "car", None, 2)
    old = client.get("/officer/dashboard/flow?hours=6")
    assert "No vehicles at" in old.text and "in the last 6 hours" in old.text and "<svg" not in old.text
    store(session, "LHR-CANAL-02", hour_now() + timedelta(days=3), "bus", 40.0, 3)  # a clock set ahead
    day = client.get("/officer/dashboard/flow?site=LHR-CANAL-02&hours=24&interval=1h")
    assert [n for *_, n in SEGMENT.findall(day.text)] == ["2"]
    assert "No speeds measured" in day.text and 'class="band"' not in day.text


def test_bad_choices_get_one_line(client, session):
    seed_traffic(session)
    login(client, *OFFICER)
    for path, status, says in [
        (
            "/officer/dashboard/flow?interval=weekly",
            422,
            "interval &#39;weekly&#39;: give minutes or hours",
        ),
        (
            "/officer/dashboard?interval=5m&hours=168",
            422,
            "7 days at 5m is over 400 intervals: choose a longer",
        ),
        ("/officer/dashboard/flow?site=NOWHERE", 404, "no site NOWHERE in the records"),
        ("/officer/dashboard/flow?hours=0", 422, "hours: Input should be greater than or equal to 1"),
    ]:
        answer = client.get(path)
        assert (answer.status_code, says in answer.text) == (status, True), (
            path,
            re.findall(r"<p class=.message.>(.*?)</p>", answer.text, re.S),
        )
    api = client.get("/api/v1/flow?interval=2d", headers=bearer(client, *OFFICER))
    [problem] = api.json()["detail"]
    assert api.status_code == 422 and problem["loc"] == ["query", "interval"]
    assert problem["msg"].startswith("Input should be '1m', '5m', '10m', '15m', '30m', '1h'")
    epoch = client.get("/api/v1/flow?since=5", headers=bearer(client, *OFFICER))  # not 1970 plus 5 s
    assert epoch.status_code == 422 and "give an ISO 8601 time" in epoch.json()["detail"][0]["msg"]


# --- in a real browser -------------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path, monkeypatch):
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    monkeypatch.setattr(flow_route, "REFRESH_S", 1)
    settings = PortalSettings(
        database_url=f"sqlite:///{tmp_path / 'records.db'}",
        evidence_dir=tmp_path / "evidence",
        secret_key="browser test secret key",
    )
    init_db(settings.database_url)
    engine = get_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        users.add_officer(session, username=OFFICER[0], password=OFFICER[1], role="officer", actor="test")
        session.commit()
        busy_road(session)
    with portal_server(settings) as url:
        yield engine, url
    _forget(settings.database_url)


def busy_road(session) -> None:
    """Two sites' last six hours: a steady mix of classes and speeds, a quarter hour at a time."""
    hour, track = hour_now(), 0
    kinds = ("car", "car", "motorcycle", "car", "motorcycle", "bus", "car", "truck", "rickshaw")
    for quarter in range(24):
        start = hour - timedelta(hours=6) + quarter * timedelta(minutes=15)
        for k in range(4 + (quarter * 7) % 9):
            track += 1
            speed = None if k % 5 == 4 else 28.0 + (quarter * 13 + k * 17) % 45
            store(
                session,
                "LHR-REGAL-01",
                start + timedelta(seconds=50 * k + 20),
                kinds[(quarter + k) % 9],
                speed,
                track,
            )
    store(session, "LHR-CANAL-02", hour - timedelta(hours=7), "car", 50.0, 10_000)


@pytest.mark.slow
def test_the_open_dashboard_follows_new_sightings_and_pauses_when_hidden(live, shots):
    from playwright.sync_api import sync_playwright

    engine, url = live
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.goto(url + "/login?next=/officer/dashboard")
        page.fill("input[name=username]", OFFICER[0])
        page.fill("input[name=password]", OFFICER[1])
        page.click("form button[type=submit]")
        page.wait_for_url("**/officer/dashboard")
        assert (
            page.locator("#flow-panel svg").count() == 2 and page.locator("#flow-panel rect.seg").count() > 40
        )
        assert page.locator("#flow-panel svg[role=img][aria-label]").count() == 2
        page.click("#flow-numbers summary")  # opened, it stays open through the refreshes
        page.screenshot(path=shots / "dashboard-flow.png", full_page=True)
        loads: list[int] = []
        page.on("load", lambda _: loads.append(1))

        at = datetime.now(UTC) - timedelta(seconds=5)
        column = name(at.replace(minute=at.minute // 15 * 15, second=0, microsecond=0), QUARTER)
        before = stacked(page).get((column, "bus"), 0)
        with Session(engine) as session:
            store(session, "LHR-REGAL-01", at, "bus", 31.0, 50_000)
        # (read off the interval's column: the window's total also drops what slides out of it)
        assert counted(page, column, "bus", before + 1, timeout_s=10)
        assert page.locator("#flow-numbers[open]").count() == 1 and loads == []

        # hidden, it asks for nothing; shown again, it catches up at once
        fetched: list[str] = []
        page.on("request", lambda r: fetched.append(r.url) if "/officer/dashboard/flow" in r.url else None)
        page.evaluate(
            "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
            "document.dispatchEvent(new Event('visibilitychange'))"
        )
        page.wait_for_timeout(3500)
        assert fetched == []
        at = datetime.now(UTC) - timedelta(seconds=2)
        column = name(at.replace(minute=at.minute // 15 * 15, second=0, microsecond=0), QUARTER)
        trucks = stacked(page).get((column, "truck"), 0)
        with Session(engine) as session:
            store(session, "LHR-REGAL-01", at, "truck", 44.0, 50_001)
        page.evaluate(
            "Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
            "document.dispatchEvent(new Event('visibilitychange'))"
        )
        assert counted(page, column, "truck", trucks + 1, timeout_s=3)
        assert len(fetched) >= 1

        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.context.add_cookies(page.context.cookies())
        phone.goto(url + "/officer/dashboard#traffic-flow")
        assert (
            phone.evaluate("document.documentElement.scrollWidth") <= 390
        )  # only the chart scrolls sideways
        phone.locator("#traffic-flow").screenshot(path=shots / "dashboard-flow-phone.png")
        assert problems == [] and loads == []
        browser.close()


def counted(page, column: str, kind: str, expected: int, *, timeout_s: float) -> bool:
    """Whether the open page's column shows `expected` of `kind` within `timeout_s` (it refreshes)."""
    deadline = time.monotonic() + timeout_s
    while stacked(page).get((column, kind), 0) != expected:
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(100)
    return True


def stacked(page) -> dict[tuple[str, str], int]:
    """The open page's time series: vehicles by (interval, class), read off the columns' titles."""
    titles = page.eval_on_selector_all("#flow-panel rect.seg title", "ts => ts.map(t => t.textContent)")
    return {(c, k): int(n) for c, k, n in (re.fullmatch(r"(.+): (\w+) (\d+)", t).groups() for t in titles)}


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("ANPR_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
