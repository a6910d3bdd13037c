"""Places are shown by name, not by code: a challan from site LHR-REGAL-01 reads "Mall Road / Regal
Chowk, Lahore" on the look-up, the challan page, the API, the PDF, the review card, the violation
record, the contests page and the dashboard (challan/config/places-punjab.yaml); a name recorded for
the site wins, and a site no one named keeps its code."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from anpr.errors import ConfigError
from challan import lifecycle
from challan.models import Site
from challan.places import DEFAULT_PLACES, load_places
from tests.challan.conftest import _forget, record
from tests.challan.web.conftest import OFFICER, OWNER, login

REGAL = "LHR-REGAL-01"
NAME = "Mall Road / Regal Chowk, Lahore"


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.db'}"
    yield url
    _forget(url)


@pytest.fixture
def regal(client, seed, session, settings, images):
    """A challan issued from LHR-REGAL-01 (the pipeline records the site under its code), contested,
    and a violation from there waiting for review."""
    issued = record(session, settings, images, track_id=40, site_id=REGAL)
    challan = lifecycle.approve_violation(
        session, violation_id=issued.id, officer="insp.sana", settings=settings
    )
    lifecycle.contest_challan(
        session,
        number=challan.number,
        reason="The light was amber.",
        cnic=OWNER.owner_cnic,
        settings=settings,
    )
    pending = record(session, settings, images, track_id=41, site_id=REGAL, at=issued.occurred_at)
    session.commit()
    assert session.get(Site, REGAL).name == REGAL
    return challan.number, pending.id


def test_the_public_pages_and_the_api_name_the_site(client, regal, session):
    number, _ = regal
    for path in ("/challans?plate=LEH5789", f"/challans/{number}"):
        page = client.get(path)
        assert page.status_code == 200 and NAME in page.text, path
        assert REGAL not in page.text, path
    [row] = [
        c for c in client.get("/api/v1/challans", params={"plate": "LEH5789"}).json() if c["number"] == number
    ]
    assert (row["site"], row["site_name"]) == (REGAL, NAME)
    session.get(Site, REGAL).name = "Regal Chowk (renamed)"  # a name recorded for the site wins
    session.commit()
    page = client.get(f"/challans/{regal[0]}").text
    assert "Regal Chowk (renamed)" in page and NAME not in page
    session.get(Site, "lhr-mall-road-01").name = REGAL  # the code of another site is its name here
    session.commit()
    assert REGAL in client.get("/challans?plate=LEH5789").text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_the_notice_names_the_site(client, regal, tmp_path):
    number, _ = regal
    path = tmp_path / "notice.pdf"
    path.write_bytes(client.get(f"/challans/{number}.pdf").content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    # the label in English and in Urdu (pdftotext marks the right-to-left run), and the place's name
    # (read out of order by pdftotext when the row wraps)
    words = " ".join(text.split())
    assert "Location \u202bمقام\u202c" in words and NAME in words


def test_the_officers_pages_name_the_site(client, regal):
    number, pending_id = regal
    login(client, *OFFICER)
    card = client.get("/officer/review").text
    assert f"<dt>Site</dt><dd>{NAME}</dd>" in card
    record_page = client.get(f"/officer/violations/{pending_id}").text
    assert f"<tr><th>Site</th><td>{NAME}</td></tr>" in record_page
    contests = client.get("/officer/contests").text
    assert number in contests and f"<dt>Site</dt><dd>{NAME}</dd>" in contests
    dashboard = client.get("/officer/dashboard", params={"days": 7}).text
    assert f"<title>{NAME}: 2</title>" in dashboard and f"<td>{NAME}</td>" in dashboard
    assert f"<title>{REGAL}" not in dashboard
    assert "<title>lhr-mall-road-01: 3</title>" in dashboard  # a site no one named keeps its code


def test_the_places_file_is_checked(tmp_path):
    places = load_places()
    assert places.site_name(REGAL) == NAME and places.site_name("unknown-01") == "unknown-01"
    assert places.hearing(REGAL) == places.hearing("unknown-01")  # the default city's office
    raw = yaml.safe_load(DEFAULT_PLACES.read_text(encoding="utf-8"))
    raw["sites"]["LHR-X"] = {"name": "Somewhere", "city": "karachi"}
    bad = tmp_path / "places.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match="city 'karachi' is not under cities"):
        load_places(bad)
    raw["sites"]["LHR-X"] = {"name": "Somewhere", "city": "lahore", "zone": 3}
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sites\.LHR-X\.zone: Extra inputs are not permitted"):
        load_places(bad)
