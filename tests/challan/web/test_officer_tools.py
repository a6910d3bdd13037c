"""Officers' tools (issue #26): the review queue filtered by site, violation and read confidence, the
list and search of issued challans, the dashboard in words and rupees, and the decisive frame as the
large picture on the review card."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from anpr.types import Candidate, PlateRead, VehicleEvent
from challan import crud, evidence, lifecycle
from challan.findings import Finding
from challan.models import Challan
from challan.web.app import create_app
from tests.challan.conftest import OFFENCE_AT, record
from tests.challan.web.conftest import OFFICER, csrf_token, login

REGAL = "LHR-REGAL-01"
REGAL_NAME = "Mall Road / Regal Chowk, Lahore"
CARD = re.compile(r'<article class="card" id="v(\d+)"')


def cards(page: str) -> list[int]:
    return [int(n) for n in CARD.findall(page)]


def test_the_queue_filters_by_site_violation_and_read_confidence(client, seed, session, settings, images):
    doubtful = record(session, settings, images, track_id=8, site_id=REGAL, confidence=0.35).id
    login(client, *OFFICER)
    assert cards(client.get("/officer/review").text) == [seed.pending_id, doubtful]
    by_site = client.get("/officer/review", params={"site": REGAL}).text
    assert cards(by_site) == [doubtful] and "1 shown" in by_site and "2 pending" in by_site
    assert f'<option value="{REGAL}" selected>{REGAL_NAME}</option>' in by_site
    assert cards(client.get("/officer/review", params={"violation": "OVER_SPEED"}).text) == [seed.pending_id]
    assert cards(client.get("/officer/review", params={"violation": "RED_LIGHT"}).text) == [doubtful]
    assert cards(client.get("/officer/review", params={"max_conf": "50"}).text) == [doubtful]
    assert cards(client.get("/officer/review", params={"min_conf": "91"}).text) == [seed.pending_id]
    assert cards(client.get("/officer/review", params={"min_conf": "92"}).text) == []
    # the form's empty fields are "any"
    empty = {"site": "", "violation": "", "min_conf": "", "max_conf": ""}
    assert cards(client.get("/officer/review", params=empty).text) == [seed.pending_id, doubtful]
    assert client.get("/officer/review", params={"min_conf": "ten"}).status_code == 422


def test_the_queue_pages_keep_the_filter(seed, session, settings, images):
    later = [
        record(session, settings, images, track_id=20 + i, site_id=REGAL, confidence=0.3).id for i in range(2)
    ]
    with TestClient(create_app(settings.model_copy(update={"page_size": 1}))) as client:
        login(client, *OFFICER)
        first = client.get("/officer/review", params={"site": REGAL, "max_conf": "40"}).text
        assert cards(first) == later[:1]
        [next_url] = re.findall(r'<p class="pager"><a href="([^"]+)"', first)
        assert next_url == f"/officer/review?site={REGAL}&amp;max_conf=40&amp;page=2"
        assert cards(client.get(next_url.replace("&amp;", "&")).text) == later[1:]


def numbers(page: str, *wanted: str) -> list[str]:
    """Which of `wanted` the page lists as challans, in the order it lists them."""
    found = re.findall(r'<a href="/challans/([A-Z0-9-]+)" class="mono">', page)
    return [n for n in found if n in wanted]


def test_officers_list_and_search_issued_challans(client, seed, session, settings):
    both = (seed.number, seed.old_number)
    assert client.get("/officer/challans", follow_redirects=False).status_code == 303  # a citizen: sign in
    login(client, *OFFICER)
    listed = client.get("/officer/challans")
    assert listed.status_code == 200 and "2 found" in listed.text
    assert numbers(listed.text, *both) == [seed.number, seed.old_number]  # latest issued first

    def search(**params) -> list[str]:
        page = client.get("/officer/challans", params=params)
        assert page.status_code == 200, page.text
        return numbers(page.text, *both)

    assert search(plate="leh-5789") == [seed.number, seed.old_number]
    assert search(plate="LEH5780") == []
    assert search(number=seed.old_number.lower()) == [seed.old_number]
    assert search(site="lhr-mall-road-01") == [seed.number, seed.old_number]
    assert search(site=REGAL) == []
    assert search(status="overdue") == [seed.old_number]  # issued in March, unpaid long past its due date
    assert search(to="2026-03-31") == [seed.old_number]
    assert search(**{"from": "2026-04-01"}) == [seed.number]
    assert search(plate="", number="", site="", status="", **{"from": "", "to": ""}) == list(both)
    assert search(status="paid") == []
    lifecycle.record_payment(session, number=seed.number, reference="BANK-77", actor="test")
    session.commit()
    assert search(status="paid") == [seed.number]
    assert search(status="issued") == [seed.old_number]
    assert client.get("/officer/challans", params={"status": "lost"}).status_code == 422
    assert client.get("/officer/challans", params={"from": "2026-02-31"}).status_code == 422


def test_the_challan_list_is_paged(seed, settings):
    with TestClient(create_app(settings.model_copy(update={"page_size": 1}))) as client:
        login(client, *OFFICER)
        first = client.get("/officer/challans", params={"plate": "LEH5789"}).text
        assert numbers(first, seed.number, seed.old_number) == [seed.number]
        [next_url] = re.findall(r'<a href="([^"]+)">Next', first)
        assert next_url == "/officer/challans?plate=LEH5789&amp;page=2"
        second = client.get(next_url.replace("&amp;", "&")).text
        assert numbers(second, seed.number, seed.old_number) == [seed.old_number]
        assert "Previous" in second and "Next" not in second


def test_the_dashboard_gives_titles_words_and_rupees(client, seed, session):
    fines = {c.number: c.fine_pkr for c in session.exec(select(Challan))}
    login(client, *OFFICER)
    page = client.get("/officer/dashboard", params={"days": 7}).text
    assert "<title>Signal violation: 2</title>" in page and "<title>Over-speeding: 1</title>" in page
    assert "<title>Issued: 2</title>" in page and "<title>Pending review: 1</title>" in page
    assert "RED_LIGHT" not in page and "OVER_SPEED" not in page and ">pending<" not in page
    assert f"Fines issued</span> <b>PKR {sum(fines.values()):,}</b>" in page
    assert "Collected</span> <b>PKR 0</b>" in page
    assert '<a href="/officer/challans?status=overdue">1</a>' in page  # the one issued in March
    lifecycle.record_payment(session, number=seed.number, reference="BANK-78", actor="test")
    session.commit()
    paid = client.get("/officer/dashboard", params={"days": 7}).text
    assert f"Collected</span> <b>PKR {fines[seed.number]:,}</b>" in paid and "<title>Paid: 1</title>" in paid


def test_the_decisive_frame_is_the_large_picture_on_the_review_card(
    client, seed, session, settings, tmp_path
):
    """The frame at the moment of the offence leads the card, large; the frames before and after it
    follow, smaller (portal.css: figure.decisive), whatever order they were recorded in."""
    stored = []
    for shade, kind in enumerate(("scene_before", "scene_at", "scene_after", "plate_crop")):
        path = tmp_path / f"{kind}.png"
        Image.new("RGB", (320, 180), (40 * shade, 90, 120)).save(path)
        stored.append(evidence.store_file(path, root=settings.evidence_dir, kind=kind))
    event = VehicleEvent(
        site_id=REGAL,
        track_id=30,
        vehicle_type="car",
        first_seen=OFFENCE_AT - timedelta(seconds=3),
        last_seen=OFFENCE_AT + timedelta(seconds=2),
        plate=PlateRead(text="LEC1940", confidence=0.9, candidates=(Candidate("LEC1940", 0.9),)),
        evidence=(stored[3],),
    )
    finding = Finding("RED_LIGHT", OFFENCE_AT, {"seconds_into_red": 1.2}, tuple(stored[:3]))
    [violation] = crud.record_event(session, event=event, findings=[finding])
    session.commit()
    login(client, *OFFICER)
    page = client.get("/officer/review", params={"site": REGAL}).text
    frames = page[page.index(f'id="v{violation.id}"') :].split('<div class="platecol">')[0]
    figures = re.findall(r'<figure class="([^"]+)">.*?<figcaption>([a-z ]+)', frames, re.S)
    assert figures == [
        ("evidence decisive", "scene at"),
        ("evidence", "scene before"),
        ("evidence", "scene after"),
    ]
    css = client.get("/static/portal.css").text
    assert ".card .frames figure.decisive { flex: 1 1 100%; }" in css


def test_an_action_returns_to_the_filtered_queue(client, seed, session, settings, images):
    doubtful = record(session, settings, images, track_id=9, site_id=REGAL, confidence=0.35).id
    other = record(session, settings, images, track_id=10, site_id=REGAL, confidence=0.3).id
    login(client, *OFFICER)
    queue = f"http://testserver/officer/review?site={REGAL}&max_conf=50"
    token = csrf_token(client, queue)
    rejected = client.post(
        f"/officer/review/{doubtful}/reject",
        data={"reason": "Plate unreadable in the evidence", "csrf_token": token},
        headers={"Referer": queue},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    assert (
        rejected.headers["location"] == f"/officer/review?site={REGAL}&max_conf=50&done=rejected&n={doubtful}"
    )
    page = client.get(rejected.headers["location"]).text
    assert cards(page) == [other] and f"Violation {doubtful} rejected." in page
    # a refusal shows the same narrowed queue with the error
    again = client.post(
        f"/officer/review/{doubtful}/reject",
        data={"reason": "Again", "csrf_token": token},
        headers={"Referer": queue},
    )
    assert again.status_code == 409 and cards(again.text) == [other]
    # from the violation's own page, back to the whole queue as before
    approved = client.post(
        f"/officer/review/{other}/approve",
        data={"csrf_token": token},
        headers={"Referer": f"http://testserver/officer/violations/{other}"},
        follow_redirects=False,
    )
    assert approved.headers["location"].startswith("/officer/review?done=approved&n=")
