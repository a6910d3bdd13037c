"""The public sees copies of an issued challan's evidence, officers and courts the originals
(challan.public_images). The challans here are recorded from a real still (tests/anpr/test_redact.py:
a regal-chowk frame with the red-light runner boxed, a second car's plate and a bystander's face,
barred as stills were before 2026-12) and its plate close-up, through the portal on SQLite."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import pytest

from anpr.annotate import data_bar
from anpr.weights import WeightsError
from challan import public_images
from challan.evidence import sha256_bytes, sha256_file
from challan.models import EvidenceFile
from tests.anpr.test_redact import decode, recorded_still, sharpness, spread
from tests.challan.conftest import _forget
from tests.challan.web.conftest import OFFICER, login

pytestmark = pytest.mark.slow
GALLERY_LINK = re.compile(r'<a class="zoom" href="(/challans/[^"]+)"><img src="([^"]+)" srcset="([^"]+)"')


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.db'}"
    yield url
    _forget(url)


@pytest.fixture
def images(tmp_path) -> dict[str, Path]:
    """Overrides the drawn scene: the real still and its plate close-up, as the pipeline writes them."""
    still = recorded_still()
    x1, y1, x2, y2 = still.challaned_plate
    crop = cv2.resize(decode(still.data)[y1:y2, x1:x2], (360, round(360 * (y2 - y1) / (x2 - x1))))
    crop = data_bar(crop, ["LHR-REGAL-01 t5", "AWQ138 (0.93)", "2026-11-20 08:00:06"])
    paths = {"scene_at": tmp_path / "scene_at.jpg", "plate_crop": tmp_path / "plate.jpg"}
    paths["scene_at"].write_bytes(still.data)
    cv2.imwrite(str(paths["plate_crop"]), crop, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return paths


def scene_of(session, seed) -> EvidenceFile:
    return next(e for e in (session.get(EvidenceFile, i) for i in seed.evidence_ids) if e.kind == "scene_at")


def test_the_public_link_serves_a_blurred_copy_and_officers_the_original(client, seed, session, settings):
    scene = scene_of(session, seed)
    original = settings.evidence_dir / scene.path
    page = client.get(f"/challans/{seed.number}").text
    links = {href: (src, srcset) for href, src, srcset in GALLERY_LINK.findall(page)}
    assert len(links) == 2  # the scene and the plate close-up, each enlarged by its link
    link = next(href for href in links if f"/evidence/{scene.id}/" in href)
    assert links[link] == (link, f"{link}?w=640 640w, {link} 1280w")

    large, small = client.get(link), client.get(f"{link}?w=640")
    for response, width in ((large, 1280), (small, 640)):
        assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
        assert len(response.content) < 200_000 and decode(response.content).shape[1] == width
    still = recorded_still()
    copy, k = decode(large.content), 1280 / 2560
    assert spread(copy, still.bystander_plate, k) < 12 and sharpness(copy, still.bystander_plate, k) < 30
    assert spread(copy, still.face, k) < 12
    assert spread(copy, still.challaned_plate, k) > 25 and sharpness(copy, still.challaned_plate, k) > 300
    assert client.get(f"{link}?w=1000").status_code == 404  # only the widths the page links

    # the original is as recorded, and is what officers (and the notice, and the courts) get
    assert sha256_file(original) == scene.sha256 == sha256_bytes(still.data)
    login(client, *OFFICER)
    served = client.get(f"/officer/evidence/{scene.id}")
    assert served.headers["content-type"] == "image/jpeg" and served.content == still.data


def test_a_copy_is_made_once_kept_beside_the_original_and_served_only_while_it_is_intact(
    client, seed, session, settings, monkeypatch
):
    scene = scene_of(session, seed)
    original = settings.evidence_dir / scene.path
    link = re.search(
        rf'href="(/challans/[^"]+/evidence/{scene.id}/[^"]+)"', client.get(f"/challans/{seed.number}").text
    )
    assert link
    first = client.get(link.group(1))
    kept = sorted(p.name for p in (original.parent / "public").iterdir())
    assert [name.split(".")[0] for name in kept] == [scene.sha256] * 2  # named by the original's SHA-256
    assert [name.rsplit(".", 2)[1] for name in kept] == ["w1280", "w640"]

    def no_second_copy():
        raise AssertionError("the copy was made again")

    monkeypatch.setattr(public_images, "_redactor", no_second_copy)
    again = client.get(link.group(1))
    assert again.status_code == 200 and again.content == first.content
    original.write_bytes(original.read_bytes()[:-10])  # the original changed: its copies go unserved
    assert client.get(link.group(1)).status_code == 409


def test_no_copy_no_picture(client, seed, session, monkeypatch):
    """Where a copy cannot be made (a model file is missing), nothing is served: never the original."""

    def missing():
        raise WeightsError("model file models/centerface.onnx is missing; run 'make models'")

    monkeypatch.setattr(public_images, "_redactor", missing)
    scene = scene_of(session, seed)
    page = client.get(f"/challans/{seed.number}").text
    link = re.search(rf'href="(/challans/[^"]+/evidence/{scene.id}/[^"]+)"', page)
    assert link
    refused = client.get(link.group(1))
    assert refused.status_code == 503 and "cannot be shown now" in refused.text
    assert "centerface" not in refused.text and not refused.headers["content-type"].startswith("image/")
