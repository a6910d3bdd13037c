"""Officers' tools (issue #26): the review queue filtered by site, violation and read confidence, the
list and search of issued challans, the dashboard in words and rupees, and the decisive frame as the
large picture on the review card."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from challan.web.app import create_app
from tests.challan.conftest import record
from tests.challan.web.conftest import OFFICER, login

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
