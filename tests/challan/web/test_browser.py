"""The portal in a real browser: Debian's Chromium driven by Playwright against uvicorn on a free
loopback port, with screenshots (saved under $ANPR_SCREENSHOTS when set, else a temporary folder)."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlmodel import Session

from challan import crud, lifecycle, users
from challan.db import get_engine, init_db
from challan.models import utcnow
from challan.web.settings import PortalSettings
from tests.challan.conftest import OFFENCE_AT, _forget, record
from tests.challan.web.conftest import OFFICER, OWNER, portal_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def scene_images(folder: Path, n: int) -> dict[str, Path]:
    """A road scene with a car crossing the stop line, and the plate close-up."""
    scene = Image.new("RGB", (960, 540), (92, 96, 100))
    draw = ImageDraw.Draw(scene)
    draw.rectangle((0, 0, 960, 150), fill=(150, 180, 205))
    draw.rectangle((0, 380, 960, 392), fill=(240, 240, 240))
    for x in range(0, 960, 120):
        draw.rectangle((x + 20, 455, x + 80, 463), fill=(230, 230, 230))
    x = 260 + 40 * n
    draw.rounded_rectangle((x, 230, x + 380, 420), radius=30, fill=(30 + 50 * n, 60, 140))
    draw.rectangle((x + 140, 370, x + 240, 400), fill=(255, 255, 255))
    draw.text((20, 20), f"CAM lhr-mall-road-01  2026-03-14 17:42:0{n}", fill=(255, 255, 0), font_size=22)
    plate = Image.new("RGB", (300, 100), (255, 255, 255))
    pd = ImageDraw.Draw(plate)
    pd.rectangle((0, 0, 40, 100), fill=(0, 120, 60))
    pd.text((55, 25), "LEH 5789" if n != 2 else "LEH 578?", fill=(0, 0, 0), font_size=44)
    paths = {"scene_at": folder / f"scene{n}.jpg", "plate_crop": folder / f"plate{n}.png"}
    scene.save(paths["scene_at"], quality=88)
    plate.save(paths["plate_crop"])
    return paths


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("portal")
    settings = PortalSettings(
        database_url=f"sqlite:///{folder / 'records.db'}",
        evidence_dir=folder / "evidence",
        secret_key="browser test secret key",
        lookups_per_minute=1000,
    )
    init_db(settings.database_url)
    engine = get_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        crud.save_vehicle(session, data=OWNER, actor="test")
        registered_2009 = OWNER.model_copy(update={"plate": "LEA5789", "registration_year": "2009"})
        crud.save_vehicle(session, data=registered_2009, actor="test")  # the third card's read says 07
        issued = record(session, settings, scene_images(folder, 0), track_id=1)
        challan = lifecycle.approve_violation(
            session, violation_id=issued.id, officer="insp.sana", settings=settings
        )
        contested = record(
            session, settings, scene_images(folder, 1), track_id=2, at=OFFENCE_AT + timedelta(hours=1)
        )
        other = lifecycle.approve_violation(
            session, violation_id=contested.id, officer="insp.sana", settings=settings
        )
        lifecycle.contest_challan(
            session,
            number=other.number,
            reason="I was not driving that day; the car was at home.",
            cnic=OWNER.owner_cnic,
            settings=settings,
        )
        for i, plate in enumerate(("LEH5789", "LEH5780", "LEA5789")):
            when = OFFENCE_AT + timedelta(days=1, minutes=i)
            speed = {"speed_kmh": 71.5 + i, "limit_kmh": 60}
            record(
                session,
                settings,
                scene_images(folder, 2 + i),
                plate=plate,
                track_id=10 + i,
                at=when,
                code="OVER_SPEED",
                details=speed,
                year="07",
                confidence=0.62 if i == 0 else 0.91,
                year_candidates=(("07", 0.7), ("01", 0.3)) if i == 0 else (("07", 1.0),),
            )  # the first close-up reads "LEH 578?": an unsure read, its year 07 or 01
        recent = utcnow() - timedelta(days=20)
        for i in range(40):  # three weeks of camera traffic, already reviewed, for the dashboard
            when = recent + timedelta(hours=11 * i + (i * 7) % 5)
            code, site = (
                ("RED_LIGHT", "OVER_SPEED", "WRONG_WAY")[i % 3],
                ("lhr-mall-road-01", "isb-blue-area-02")[i % 2],
            )
            done = record(session, settings, scene_images(folder, 0), track_id=100 + i, at=when, code=code,
                          site_id=site, details={"speed_kmh": 80, "limit_kmh": 60})  # fmt: skip
            lifecycle.reject_violation(session, violation_id=done.id, officer="insp.sana", reason="Seeded")
        users.add_officer(session, username=OFFICER[0], password=OFFICER[1], role="officer", actor="test")
        session.commit()
    with portal_server(settings) as url:
        yield {"url": url, "number": challan.number, "contested": other.number}
    _forget(settings.database_url)


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("ANPR_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    context.close()
    assert problems == []  # no CSP violation, no script error, no failed image


def images_loaded(page) -> list[int]:
    """Each picture's width once every one has loaded (-1 for one still loading after a minute). A
    public copy of evidence is made on its first request (challan.public_images), seconds after the
    page's load event."""
    for _ in range(600):
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : -1)")
        if -1 not in widths:
            break
        page.wait_for_timeout(100)
    return widths


def test_citizen_looks_up_views_and_reveals_with_cnic(page, server, shots):
    page.goto(server["url"] + "/")
    page.fill("#plate", "leh-5789")
    page.press("#plate", "Enter")
    page.wait_for_url("**/challans?plate=*")
    assert page.locator("table.list tbody tr").count() == 2
    page.screenshot(path=shots / "plate-lookup.png", full_page=True)
    page.click(f"text={server['number']}")
    page.wait_for_url(f"**/challans/{server['number']}")
    content = page.content()
    assert OWNER.owner_name not in content and OWNER.owner_cnic not in content
    assert all(width > 0 for width in images_loaded(page)) and len(images_loaded(page)) == 2
    page.screenshot(path=shots / "challan-public.png", full_page=True)
    page.fill("#cnic", "35202-7654321-9")
    page.click("form.owner-form button")
    assert "does not match the registered owner" in page.inner_text("form.owner-form")
    expected = "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    assert page.problems == [expected]  # the refused CNIC, and nothing else
    page.problems.clear()
    page.fill("#cnic", OWNER.owner_cnic)
    page.click("form.owner-form button")
    assert page.inner_text("#owner").count(OWNER.owner_name) == 1
    page.screenshot(path=shots / "challan-owner.png", full_page=True)
    page.goto(f"{server['url']}/verify/{server['number']}")
    assert "Genuine challan" in page.inner_text("h1")
    page.screenshot(path=shots / "verify.png")


def test_officer_reviews_the_queue_with_the_keyboard(page, server, shots):
    page.goto(server["url"] + "/officer/review")
    page.wait_for_url("**/login?next=/officer/review")
    page.fill("#username", OFFICER[0])
    page.fill("#password", OFFICER[1])
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/officer/review")
    assert page.inner_text("h1 .count") == "3 pending"
    assert all(width > 0 for width in images_loaded(page))
    page.screenshot(path=shots / "review-queue.png", full_page=True)
    first = page.locator("article.card").nth(0)
    assert "current" in first.get_attribute("class")
    assert "year 07" in first.locator(".read").inner_text()  # the year the approval vouches for
    assert "also read year 01 (30%)" in first.locator(".read").inner_text()
    assert "also read year" not in page.locator("article.card").nth(1).inner_text()
    assert first.locator(".uncertain").is_visible()  # read at 62 %, under UNCERTAIN_READ
    assert page.locator("article.card .uncertain").count() == 2  # and the third card's year
    third = page.locator("article.card").nth(2).inner_text()
    assert "Camera read year 07, registry says 2009" in third and "Uncertain read" not in third
    page.keyboard.press("j")
    assert "current" in page.locator("article.card").nth(1).get_attribute("class")
    page.keyboard.press("k")
    with page.expect_navigation():
        page.keyboard.press("a")  # approve the first as read
    assert "Approved: challan PB-" in page.inner_text("p.notice")
    assert page.inner_text("h1 .count") == "2 pending"
    with page.expect_navigation():
        page.keyboard.press("2")  # the second (LEH5780) approved as its second candidate
    assert page.inner_text("h1 .count") == "1 pending"
    page.keyboard.press("r")
    page.keyboard.type("Plate unreadable in the evidence")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "rejected" in page.inner_text("p.notice") and page.inner_text("h1 .count") == "0 pending"
    page.screenshot(path=shots / "review-done.png")


def test_officer_sees_contests_and_the_dashboard(page, server, shots):
    page.goto(server["url"] + "/login")
    page.fill("#username", OFFICER[0])
    page.fill("#password", OFFICER[1])
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/officer/review")
    page.goto(server["url"] + "/officer/contests")
    assert server["contested"] in page.inner_text("main")
    page.screenshot(path=shots / "contests.png", full_page=True)
    page.goto(server["url"] + "/officer/dashboard?days=30")
    assert page.locator("svg").count() == 4
    page.screenshot(path=shots / "dashboard.png", full_page=True)
    page.goto(f"{server['url']}/challans/{server['number']}")
    assert OWNER.owner_name in page.inner_text("#owner")  # officers see the owner without a CNIC
    page.goto(f"{server['url']}/officer/violations/1")
    assert OWNER.owner_cnic in page.inner_text("main") and "approve" in page.inner_text("main")
    page.screenshot(path=shots / "violation-record.png", full_page=True)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_pdf_downloads_in_the_browser(page, server):
    page.goto(f"{server['url']}/challans/{server['number']}")
    response = page.request.get(f"{server['url']}/challans/{server['number']}.pdf")
    assert response.status == 200 and response.body().startswith(b"%PDF-")
