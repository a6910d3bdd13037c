"""No server internals in responses: evidence that fails its integrity check is refused in words that
name no file on the server's disk (the path goes to the server's log)."""

from __future__ import annotations

import logging

import pytest

from challan.models import EvidenceFile
from challan.web.views import EVIDENCE_REFUSED
from tests.challan.web.conftest import OFFICER, OWNER, bearer, csrf_token


@pytest.fixture(params=["changed", "missing"])
def broken_scene(request, seed, session, settings) -> str:
    """The scene file behind the issued challan (and the pending violation: the same bytes are one
    file in the store), changed or removed on disk; returns its path there."""
    scene = session.get(EvidenceFile, seed.evidence_ids[0])
    path = settings.evidence_dir / scene.path
    if request.param == "changed":
        path.write_bytes(b"tampered")
    else:
        path.unlink()
    return str(path)


def leaks(text: str, settings, path: str) -> bool:
    return path in text or str(settings.evidence_dir) in text or "/tmp/" in text


def test_broken_evidence_is_refused_without_its_path(client, seed, settings, broken_scene, caplog):
    caplog.set_level(logging.WARNING, logger="challan.web")
    page = client.get(f"/challans/{seed.number}")
    assert page.status_code == 200 and not leaks(page.text, settings, broken_scene)
    detail = client.get(f"/api/v1/challans/{seed.number}")
    assert detail.status_code == 200 and not leaks(detail.text, settings, broken_scene)
    scene_url = detail.json()["evidence"][0]["url"]

    refusals = [
        client.get(scene_url),
        client.get(f"/challans/{seed.number}.pdf"),
        client.post(
            f"/challans/{seed.number}.pdf",
            data={"cnic": OWNER.owner_cnic, "csrf_token": csrf_token(client, f"/challans/{seed.number}")},
        ),
        client.post(
            f"/api/v1/violations/{seed.pending_id}/approve", json={}, headers=bearer(client, *OFFICER)
        ),
    ]
    for response in refusals:
        assert response.status_code == 409, response.request.url
        assert EVIDENCE_REFUSED in response.text and not leaks(response.text, settings, broken_scene)
    assert refusals[-1].json() == {"detail": EVIDENCE_REFUSED}
    logged = [r.getMessage() for r in caplog.records if r.name == "challan.web"]
    assert len(logged) == len(refusals) and all(broken_scene in message for message in logged)
