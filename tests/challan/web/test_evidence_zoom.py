"""Evidence pictures on a 390 px phone, in Debian's Chromium: the challan page shows the public copies
small (two a row, the 640 px copy), a tap opens the picture over the page at the screen's width,
another tap shows it at full size to pan across, Esc closes it; the officer's review card enlarges
the original the same way, and the queue's shortcuts do nothing behind it. The challans are recorded
from a real still (tests/anpr/test_redact.py). Screenshots go under $ANPR_SCREENSHOTS."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import cv2
import pytest
from sqlmodel import Session

from anpr.annotate import data_bar
from challan import crud, lifecycle, users
from challan.db import get_engine, init_db
from challan.web.settings import PortalSettings
from tests.anpr.test_redact import decode, recorded_still
from tests.challan.conftest import OFFENCE_AT, _forget, record
from tests.challan.web.conftest import OFFICER, OWNER, portal_server
from tests.challan.web.test_browser import CHROMIUM, browser, shots  # noqa: F401
from tests.challan.web.test_phone import PHONE, page_width

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
OPEN_VIEW = "dialog.zoom-view[open]"


def still_images(folder: Path) -> dict[str, Path]:
    still = recorded_still()
    x1, y1, x2, y2 = still.challaned_plate
    crop = cv2.resize(decode(still.data)[y1:y2, x1:x2], (360, round(360 * (y2 - y1) / (x2 - x1))))
    paths = {"scene_at": folder / "scene_at.jpg", "plate_crop": folder / "plate.jpg"}
    paths["scene_at"].write_bytes(still.data)
    cv2.imwrite(str(paths["plate_crop"]), data_bar(crop, ["LHR-REGAL-01 t5", "AWQ138 (0.93)"]))
    return paths


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """One issued challan and one violation pending review, both from the real still; an officer."""
    folder = tmp_path_factory.mktemp("zoom")
    settings = PortalSettings(
        database_url=f"sqlite:///{folder / 'records.db'}",
        evidence_dir=folder / "evidence",
        secret_key="zoom test secret key",
        lookups_per_minute=1000,
        logins_per_minute=1000,
    )
    init_db(settings.database_url)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        crud.save_vehicle(session, data=OWNER, actor="test")
        issued = record(session, settings, still_images(folder), track_id=1, site_id="LHR-REGAL-01")
        challan = lifecycle.approve_violation(
            session, violation_id=issued.id, officer=OFFICER[0], settings=settings
        )
        record(session, settings, still_images(folder), track_id=2, at=OFFENCE_AT + timedelta(minutes=1))
        users.add_officer(
            session, username=OFFICER[0], password=OFFICER[1], role=users.Role.OFFICER, actor="test"
        )
        session.commit()
    with portal_server(settings) as url:
        yield {"url": url, "number": challan.number}
    _forget(settings.database_url)


@pytest.fixture
def phone(browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    context.close()
    assert problems == []  # no CSP violation, no script error, no picture that failed


def box(page, selector: str) -> dict:
    found = page.locator(selector).bounding_box()
    assert found, selector
    return found


def natural_width(page, selector: str) -> int:
    return page.eval_on_selector(selector, "img => img.complete ? img.naturalWidth : -1")


def loaded(page, selector: str) -> int:
    """The picture's width once it has loaded (the page's CSP rules out wait_for_function's eval)."""
    for _ in range(100):
        if (width := natural_width(page, selector)) > 0:
            return width
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} did not load")


def test_a_tap_enlarges_the_public_picture_on_a_phone(phone, portal, shots):  # noqa: F811
    phone.goto(f"{portal['url']}/challans/{portal['number']}")
    scene = "figure.scene_at img"
    phone.locator(scene).scroll_into_view_if_needed()
    loaded(phone, scene)
    phone.screenshot(path=shots / "phone-evidence.png", full_page=True)
    small = box(phone, scene)
    assert small["width"] < PHONE["width"] / 2  # two pictures a row
    assert phone.eval_on_selector(scene, "img => img.currentSrc").endswith("?w=640")  # the phone's copy

    phone.tap(scene)
    phone.wait_for_selector(OPEN_VIEW)
    large = f"{OPEN_VIEW} .zoom-frame img"
    loaded(phone, large)
    phone.screenshot(path=shots / "phone-evidence-enlarged.png")
    fitted = box(phone, large)
    assert fitted["width"] >= PHONE["width"] - 2 and fitted["width"] > 2 * small["width"]
    assert natural_width(phone, large) == 1280  # the large copy, not the phone's

    phone.tap(large)  # full size, to pan across, the middle of the picture on screen
    assert box(phone, large)["width"] == 1280
    frame = f"{OPEN_VIEW} .zoom-frame"
    assert phone.eval_on_selector(frame, "f => f.scrollWidth") >= 1280
    assert 300 < phone.eval_on_selector(frame, "f => f.scrollLeft") < 1280 - PHONE["width"]
    phone.screenshot(path=shots / "phone-evidence-full-size.png")
    phone.keyboard.press("Escape")
    phone.wait_for_selector("dialog.zoom-view", state="hidden")
    assert page_width(phone) <= PHONE["width"]


def test_the_officers_card_enlarges_the_original_and_the_shortcuts_wait(phone, portal, shots):  # noqa: F811
    phone.goto(portal["url"] + "/login?next=/officer/review")
    phone.fill("#username", OFFICER[0])
    phone.fill("#password", OFFICER[1])
    phone.click("form.stack button[type=submit]")
    phone.wait_for_url("**/officer/review")
    scene = "article.card .frames img"
    assert loaded(phone, scene) == 2560  # officers see the original

    phone.tap(scene)
    phone.wait_for_selector(OPEN_VIEW)
    large = f"{OPEN_VIEW} .zoom-frame img"
    assert loaded(phone, large) == 2560
    assert box(phone, large)["width"] >= PHONE["width"] - 2
    phone.screenshot(path=shots / "phone-card-enlarged.png")
    phone.keyboard.press("a")  # "approve" must not act behind the picture
    phone.wait_for_timeout(300)
    assert phone.url.endswith("/officer/review") and phone.inner_text("h1 .count") == "1 pending"
    phone.keyboard.press("Escape")
    phone.wait_for_selector("dialog.zoom-view", state="hidden")
