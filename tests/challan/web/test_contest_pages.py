"""Contesting on the portal: a refused contest keeps what was typed and says why at the top of the
page; the driver of a vehicle not in the registry contests with CNIC and phone (page and API); the
challan page then shows the contest's status and where it is heard, and the officers see who
contested."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlmodel import select

from challan import lifecycle
from challan.models import Challan
from tests.challan.conftest import record
from tests.challan.web.conftest import OFFICER, OWNER, csrf_token, login

HEARING = "Electronic Ticketing Centre, Punjab Safe Cities Authority, Qurban Lines, Lahore"
DRIVER = {
    "reason": "I was driving; the signal was green.",
    "contact": "0301 2345678",
    "cnic": "61101-2345678-9",
}


@pytest.fixture
def unregistered(seed, session, settings, images) -> str:
    """A challan issued today to KHI7777, a plate the vehicle registry does not know."""
    violation = record(session, settings, images, plate="KHI7777", track_id=60)
    challan = lifecycle.approve_violation(
        session, violation_id=violation.id, officer="insp.sana", settings=settings
    )
    session.commit()
    return challan.number


def test_a_refused_contest_keeps_what_was_typed_and_says_why_at_the_top(client, seed):
    path = f"/challans/{seed.number}"
    typed = {
        "reason": "The light was amber, not red <really>.",
        "contact": "0301 2345678",
        "cnic": "35202-7654321-9",
    }
    refused = client.post(f"{path}/contest", data=typed | {"csrf_token": csrf_token(client, path)})
    assert refused.status_code == 403
    page = refused.text
    banner = page.index('id="contest-refused"')
    assert banner < page.index('class="facts"')  # above the challan's facts, at the top of the page
    assert "Your contest was not recorded: The CNIC does not match the registered owner." in page
    assert ">The light was amber, not red &lt;really&gt;.</textarea>" in page
    assert 'value="0301 2345678"' in page and 'value="35202-7654321-9"' in page
    invalid = client.post(
        f"{path}/contest", data=typed | {"reason": "short", "csrf_token": csrf_token(client, path)}
    )
    assert invalid.status_code == 422
    assert invalid.text.index("Give the reason in 10 to 900 characters.") < invalid.text.index(
        'class="facts"'
    )
    assert ">short</textarea>" in invalid.text and 'value="35202-7654321-9"' in invalid.text


def test_the_driver_of_an_unregistered_vehicle_contests_and_sees_where_it_is_heard(
    client, unregistered, session, tmp_path
):
    path = f"/challans/{unregistered}"
    before = client.get(path).text
    assert "its driver may, with their CNIC and a phone number" in before and HEARING in before
    done = client.post(
        f"{path}/contest", data=DRIVER | {"csrf_token": csrf_token(client, path)}, follow_redirects=False
    )
    assert (done.status_code, done.headers["location"]) == (303, f"{path}?contested=1")
    challan = session.exec(select(Challan).where(Challan.number == unregistered)).one()
    session.refresh(challan)
    assert (challan.contest_party, challan.contest_cnic, challan.contest_contact) == (
        "driver",
        "61101-2345678-9",
        "0301 2345678",
    )
    page = client.get(f"{path}?contested=1").text
    assert 'id="contest-status"' in page and "awaiting decision" in page and "by the driver" in page
    assert f'<td id="hearing">{HEARING}</td>' in page
    assert DRIVER["cnic"] not in page and DRIVER["contact"] not in page  # the public page
    body = client.get(f"/api/v1/challans/{unregistered}").json()
    assert body["hearing"] == HEARING
    if shutil.which("pdftotext"):  # the notice says where too
        notice = tmp_path / "notice.pdf"
        notice.write_bytes(client.get(f"{path}.pdf").content)
        text = subprocess.run(
            ["pdftotext", str(notice), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert f"Contests are heard at {HEARING}." in " ".join(text.split())
    assert {k: body["contest"][k] for k in ("status", "contested_by", "decided_at")} == {
        "status": "awaiting decision",
        "contested_by": "driver",
        "decided_at": None,
    }
    login(client, *OFFICER)
    contests = client.get("/officer/contests").text
    assert "the driver (vehicle not in the registry)" in contests
    assert "61101-2345678-9" in contests and "0301 2345678" in contests and HEARING in contests


def test_a_driver_without_a_phone_is_refused_and_the_api_takes_a_driver_too(client, unregistered):
    path = f"/challans/{unregistered}"
    by_mail = client.post(
        f"{path}/contest", data=DRIVER | {"contact": "me@example.pk", "csrf_token": csrf_token(client, path)}
    )
    assert by_mail.status_code == 422
    assert "KHI7777 is not in the vehicle registry: the driver contests with a phone number" in by_mail.text
    assert 'value="me@example.pk"' in by_mail.text
    api = client.post(f"/api/v1/challans/{unregistered}/contest", json=DRIVER)
    assert api.status_code == 200
    assert (api.json()["status"], api.json()["contest"]["contested_by"]) == ("contested", "driver")


def test_the_decision_shows_on_the_challan_page(client, seed):
    path = f"/challans/{seed.number}"
    owner = {"reason": "The light was amber, not red.", "contact": "0301 2345678", "cnic": OWNER.owner_cnic}
    client.post(f"{path}/contest", data=owner | {"csrf_token": csrf_token(client, path)})
    login(client, *OFFICER)
    token = csrf_token(client, "/officer/contests")
    client.post(
        f"/officer/contests/{seed.number}/uphold", data={"reason": "Red for 2.4 s", "csrf_token": token}
    )
    client.post("/logout", data={"csrf_token": csrf_token(client, "/officer/review")})
    page = client.get(path).text
    assert (
        "contest-upheld" in page
        and "the challan stands and is to be paid" in page
        and "by the registered owner" in page
    )
    assert "Red for 2.4 s" not in page  # the officer's reason: only with the owner's CNIC
    with_cnic = client.post(
        path, data={"cnic": OWNER.owner_cnic, "csrf_token": csrf_token(client, path)}
    ).text
    assert "Red for 2.4 s" in with_cnic
    body = client.get(f"/api/v1/challans/{seed.number}").json()
    assert (body["contest"]["status"], body["contest"]["decision_reason"]) == ("upheld", None)
