"""Evidence of an issued challan is served only by the link on its page: the number and the file's
id with an HMAC of both under the portal's secret key, rate-limited like the look-ups. A number and
an id alone, or a link made up, open nothing, and all of them answer alike."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from challan.web.app import create_app
from challan.web.security import evidence_mac
from tests.challan.web.conftest import OFFICER, login

IMAGE = re.compile(r'<img src="(/challans/[^"]+)"')


def test_the_pages_links_serve_the_evidence(client, seed, settings):
    links = IMAGE.findall(client.get(f"/challans/{seed.number}").text)
    assert len(links) == len(seed.evidence_ids) == 2
    api = [e["url"] for e in client.get(f"/api/v1/challans/{seed.number}").json()["evidence"]]
    assert sorted(links) == sorted(api)
    for link in links:
        response = client.get(link)
        assert response.status_code == 200 and response.headers["content-type"].startswith("image/")
    login(client, *OFFICER)  # officers' pages (contests) link the same way
    assert client.get(links[0]).status_code == 200


def test_a_number_and_an_id_alone_open_nothing(client, seed, settings):
    scene = seed.evidence_ids[0]
    secret, other_secret = settings.secret_key, "another secret key, long"
    good = f"/challans/{seed.number}/evidence/{scene}/{evidence_mac(secret, seed.number, scene)}"
    assert client.get(good).status_code == 200
    refused = [
        f"/challans/{seed.number}/evidence/{scene}",  # the old bare link
        f"/challans/{seed.number}/evidence/{scene}/",
        f"/challans/{seed.number}/evidence/{scene}/{'A' * 22}",
        f"/challans/{seed.number}/evidence/{scene}/{evidence_mac(other_secret, seed.number, scene)}",
        f"/challans/{seed.old_number}/evidence/{scene}/{evidence_mac(secret, seed.number, scene)}",
        f"/challans/PB-2026-000001-AAAA/evidence/{scene}/{evidence_mac(secret, seed.number, scene)}",
    ]
    answers = {(r.status_code, r.text) for r in map(client.get, refused)}
    assert {code for code, _ in answers} == {404}
    # a made-up link and a real number with a wrong MAC say the same thing: no oracle for numbers
    wrong_mac = client.get(refused[2])
    unknown = client.get(f"/challans/PB-2026-000001-AAAA/evidence/{scene}/{'A' * 22}")
    assert (wrong_mac.status_code, wrong_mac.text) == (unknown.status_code, unknown.text)


def test_evidence_links_are_rate_limited_like_the_lookups(settings, seed):
    limited = settings.model_copy(update={"lookups_per_minute": 3})
    scene = seed.evidence_ids[0]
    with TestClient(create_app(limited), client=("10.7.0.1", 40000)) as client:
        guesses = [
            client.get(f"/challans/{seed.number[:-4]}{suffix}/evidence/{scene}/{'A' * 22}").status_code
            for suffix in ("AAAA", "AAAC", "AAAD", "AAAE")
        ]
        assert guesses == [404, 404, 404, 429]
        assert client.get(f"/challans/{seed.number}/evidence/{scene}/x").headers["retry-after"] == "20"
