"""The citizen's pages on a 390 px phone, in Debian's Chromium: the look-up results, the challan
page and its contest form (also after a refused contest) fit the screen without sideways scrolling,
and the fine, the due date and the status are on screen; a refused contest keeps what was typed
and says why at the top, and the driver of an unregistered vehicle contests and sees where it is
heard. Screenshots go under $ANPR_SCREENSHOTS."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from challan import crud, lifecycle
from challan.db import get_engine, init_db
from challan.web.settings import PortalSettings
from tests.challan.conftest import OFFENCE_AT, _forget, record
from tests.challan.web.conftest import OWNER, portal_server
from tests.challan.web.test_browser import CHROMIUM, browser, scene_images, shots  # noqa: F401

PHONE = {"width": 390, "height": 844}
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """Three challans of a registered car from a named site, one of them contested."""
    folder = tmp_path_factory.mktemp("phone")
    settings = PortalSettings(
        database_url=f"sqlite:///{folder / 'records.db'}",
        evidence_dir=folder / "evidence",
        secret_key="phone test secret key",
        lookups_per_minute=1000,
    )
    init_db(settings.database_url)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        crud.save_vehicle(session, data=OWNER, actor="test")
        numbers = []
        for i in range(3):
            at = OFFENCE_AT + timedelta(hours=i)
            violation = record(
                session, settings, scene_images(folder, i), track_id=i + 1, at=at, site_id="LHR-REGAL-01"
            )
            challan = lifecycle.approve_violation(
                session, violation_id=violation.id, officer="insp.sana", settings=settings
            )
            numbers.append(challan.number)
        lifecycle.contest_challan(
            session,
            number=numbers[1],
            reason="The signal was green.",
            cnic=OWNER.owner_cnic,
            settings=settings,
        )
        stranger = record(
            session, settings, scene_images(folder, 3), plate="KHI7777", track_id=9, site_id="LHR-CANAL-02"
        )
        unregistered = lifecycle.approve_violation(
            session, violation_id=stranger.id, officer="insp.sana", settings=settings
        )
        session.commit()
    with portal_server(settings) as url:
        yield {"url": url, "numbers": numbers, "unregistered": unregistered.number}
    _forget(settings.database_url)


@pytest.fixture
def phone(browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def on_screen(page, selector: str) -> int:
    """How many elements match, after checking that each is visible and lies across the screen."""
    boxes = [page.locator(selector).nth(i) for i in range(page.locator(selector).count())]
    for element in boxes:
        assert element.is_visible(), selector
        box = element.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
    return len(boxes)


def test_the_citizens_pages_fit_a_phone(phone, portal, shots):  # noqa: F811
    """Look up the plate, open a challan from the results, contest it with a CNIC that is refused."""
    phone.goto(portal["url"] + "/challans?plate=LEH5789")
    phone.screenshot(path=shots / "phone-lookup.png", full_page=True)
    assert page_width(phone) <= PHONE["width"]
    for cell in ("td.fine-cell", "td.due-cell", "td.status-cell .badge"):
        assert on_screen(phone, cell) == 3, cell
    assert "PKR 5,000" in phone.inner_text("td.fine-cell >> nth=0")

    phone.click(f"text={portal['numbers'][0]}")
    phone.wait_for_url(f"**/challans/{portal['numbers'][0]}")
    phone.screenshot(path=shots / "phone-challan.png", full_page=True)
    assert page_width(phone) <= PHONE["width"]
    for selector in ("td.fine", ".title-row .badge", "table.facts tr:has-text('Due date') td"):
        assert on_screen(phone, selector) == 1, selector
    for field in ("#reason", "#contact", "#contest-cnic", "#contest button[type=submit]"):
        assert on_screen(phone, field) == 1, field

    phone.fill("#reason", "The signal was green when I crossed.")
    phone.fill("#contact", "0301 2345678")
    phone.fill("#contest-cnic", "35202-7654321-9")
    phone.click("#contest button[type=submit]")
    phone.screenshot(path=shots / "phone-contest-refused.png", full_page=True)
    assert "does not match" in phone.inner_text("main")
    assert page_width(phone) <= PHONE["width"]


def test_the_owners_look_up_by_cnic_fits_a_phone(phone, portal, shots):  # noqa: F811
    phone.goto(portal["url"] + "/")
    phone.fill("#owner-plate", "LEH-07 5789")
    phone.fill("#owner-cnic", OWNER.owner_cnic)
    phone.click("#by-cnic button[type=submit]")
    phone.wait_for_url("**/owner/challans")
    phone.screenshot(path=shots / "phone-owner-lookup.png", full_page=True)
    assert page_width(phone) <= PHONE["width"]
    for cell in ("td.fine-cell", "td.due-cell", "td.status-cell .badge"):
        assert on_screen(phone, cell) == 3, cell


def test_a_contest_on_a_phone_refused_then_made_by_the_driver(phone, portal, shots):  # noqa: F811
    path = f"{portal['url']}/challans/{portal['unregistered']}"
    phone.goto(path)
    phone.fill("#reason", "I was driving; the signal was green when I crossed.")
    phone.fill("#contact", "driver@example.pk")  # a driver is reached by phone
    phone.fill("#contest-cnic", "61101-2345678-9")
    phone.click("#contest button[type=submit]")
    phone.screenshot(path=shots / "phone-driver-refused.png")  # the first screen: the refusal on it
    banner = phone.locator("#contest-refused")
    assert "the driver contests with a phone number" in banner.inner_text()
    assert on_screen(phone, "#contest-refused") == 1 and banner.bounding_box()["y"] < PHONE["height"] / 2
    assert phone.input_value("#reason") == "I was driving; the signal was green when I crossed."
    typed = (phone.input_value("#contact"), phone.input_value("#contest-cnic"))
    assert typed == ("driver@example.pk", "61101-2345678-9")
    phone.fill("#contact", "0301 2345678")
    phone.click("#contest button[type=submit]")
    phone.wait_for_url("**?contested=1")
    phone.screenshot(path=shots / "phone-driver-contested.png", full_page=True)
    assert page_width(phone) <= PHONE["width"]
    status = phone.inner_text("#contest-status")
    assert "awaiting decision" in status.lower() and "by the driver" in status
    assert "Electronic Ticketing Centre, Punjab Safe Cities Authority, Qurban Lines, Lahore" in status
    assert on_screen(phone, "#hearing") == 1


def test_the_challan_page_in_urdu_fits_a_phone(phone, portal, shots):  # noqa: F811
    """The toggle in the header turns the page to Urdu, right to left, still without sideways
    scrolling; the plate and the challan number read left to right inside it."""
    phone.goto(f"{portal['url']}/challans/{portal['numbers'][0]}")
    phone.click("a.lang-toggle")
    phone.wait_for_url("**lang=ur")
    phone.screenshot(path=shots / "phone-challan-urdu.png", full_page=True)
    assert phone.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page_width(phone) <= PHONE["width"]
    assert on_screen(phone, "td.fine") == 1 and "روپے" in phone.inner_text("td.fine")
    assert phone.evaluate("getComputedStyle(document.querySelector('span.plate')).direction") == "ltr"
    # a look-up from the Urdu page stays in Urdu (the toggle is remembered)
    phone.goto(portal["url"] + "/challans?plate=LEH5789")
    assert phone.evaluate("document.documentElement.lang") == "ur"
    phone.screenshot(path=shots / "phone-lookup-urdu.png", full_page=True)
    assert page_width(phone) <= PHONE["width"]
    assert on_screen(phone, "td.fine-cell") == 3
