"""The HTML pages through the ASGI app (SQLite): citizens' look-ups and contests, officers' sign-in,
review and decisions, with CSRF, personal-data and evidence checks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import select

from challan.evidence import sha256_bytes
from challan.models import EvidenceFile, Violation
from challan.web.views import public_evidence_url as evidence_url
from tests.challan.conftest import _forget
from tests.challan.web.conftest import ADMIN, OFFICER, OWNER, csrf_token, login

PERSONAL = (OWNER.owner_name, OWNER.owner_cnic, OWNER.owner_address)


@pytest.fixture
def db_url(tmp_path):
    """These tests run on SQLite only; the API tests cover PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    yield url
    _forget(url)


def no_personal_data(text: str) -> bool:
    return not any(value in text for value in PERSONAL)


def test_plate_page_lists_challans_without_personal_data(client, seed):
    page = client.get("/challans", params={"plate": "leh 5789"})
    assert page.status_code == 200
    assert seed.number in page.text and seed.old_number in page.text
    assert "Signal violation" in page.text and "PKR 5,000" in page.text and "lhr-mall-road-01" in page.text
    assert f'href="/challans/{seed.number}.pdf"' in page.text
    assert no_personal_data(page.text)


def test_plate_page_escapes_and_refuses_bad_input(client, seed):
    page = client.get("/challans", params={"plate": "<script>alert(1)</script>"})
    assert page.status_code == 422
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    assert client.get("/challans", params={"plate": ""}, follow_redirects=False).headers["location"] == "/"


def test_challan_page_shows_owner_only_with_the_matching_cnic(client, seed):
    path = f"/challans/{seed.number}"
    public = client.get(path)
    assert public.status_code == 200 and seed.number in public.text and no_personal_data(public.text)
    token = csrf_token(client, path)
    wrong = client.post(path, data={"cnic": "35202-7654321-9", "csrf_token": token})
    assert wrong.status_code == 403
    assert "does not match the registered owner" in wrong.text and no_personal_data(wrong.text)
    right = client.post(path, data={"cnic": "35202-7654321-8", "csrf_token": token})
    assert right.status_code == 200
    assert all(value in right.text for value in PERSONAL)


def test_forms_without_a_valid_csrf_token_are_refused(client, seed):
    path = f"/challans/{seed.number}"
    token = csrf_token(client, path)
    missing = client.post(path, data={"cnic": OWNER.owner_cnic})
    assert missing.status_code == 403 and "CSRF token missing or invalid" in missing.text
    assert no_personal_data(missing.text)
    forged = client.post(path, data={"cnic": OWNER.owner_cnic, "csrf_token": token[:-2] + "xx"})
    assert forged.status_code == 403
    other_origin = client.post(
        path, data={"cnic": OWNER.owner_cnic, "csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert other_origin.status_code == 403 and "Cross-origin form refused" in other_origin.text
    client.cookies.clear()  # the token without the cookie it was made from is worthless
    assert client.post(path, data={"cnic": OWNER.owner_cnic, "csrf_token": token}).status_code == 403


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_public_pdf_omits_personal_data_and_the_owners_copy_has_it(client, seed, tmp_path):
    public = client.get(f"/challans/{seed.number}.pdf")
    assert public.status_code == 200 and public.headers["content-type"] == "application/pdf"
    text = pdf_text(public.content, tmp_path / "public.pdf")
    assert seed.number in text and "withheld" in text and no_personal_data(text)
    token = csrf_token(client, f"/challans/{seed.number}")
    refused = client.post(
        f"/challans/{seed.number}.pdf", data={"cnic": "11111-1111111-1", "csrf_token": token}
    )
    assert refused.status_code == 403
    full = client.post(f"/challans/{seed.number}.pdf", data={"cnic": OWNER.owner_cnic, "csrf_token": token})
    assert full.status_code == 200
    assert OWNER.owner_name in pdf_text(full.content, tmp_path / "full.pdf")


def pdf_text(data: bytes, path: Path) -> str:
    assert data.startswith(b"%PDF-")
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def test_evidence_is_served_verified_and_only_for_its_challan(client, seed, session, settings):
    scene = session.get(EvidenceFile, seed.evidence_ids[0])
    link = evidence_url(settings, seed.number, scene.id)
    assert f'src="{link}"' in client.get(f"/challans/{seed.number}").text
    response = client.get(link)
    # the public copy (challan.public_images), never the original, which stays as recorded
    assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
    original = (settings.evidence_dir / scene.path).read_bytes()
    assert response.content != original and sha256_bytes(original) == scene.sha256
    pending = session.exec(select(EvidenceFile).where(EvidenceFile.violation_id == seed.pending_id)).first()
    other = client.get(evidence_url(settings, seed.number, pending.id))  # a good link, another's file
    assert other.status_code == 404 and "No such evidence file" in other.text
    (settings.evidence_dir / scene.path).write_bytes(b"tampered")
    changed = client.get(link)
    assert changed.status_code == 409 and "failed its integrity check" in changed.text


def test_verify_page_tells_genuine_from_fake(client, seed):
    genuine = client.get(f"/verify/{seed.number}")
    assert genuine.status_code == 200 and "Genuine challan" in genuine.text and "issued" in genuine.text
    fake = client.get("/verify/PB-2026-000001-ZZZZ")
    assert fake.status_code == 404 and "Not a genuine challan" in fake.text
    typed = client.get("/verify", params={"number": seed.number.lower()}, follow_redirects=False)
    assert (typed.status_code, typed.headers["location"]) == (303, f"/verify/{seed.number}")


def test_contest_form_records_the_contest(client, seed):
    path = f"/challans/{seed.number}"
    form = {"reason": "I sold this car in January.", "contact": "ayesha@example.pk", "cnic": OWNER.owner_cnic}
    token = csrf_token(client, path)
    invalid = client.post(f"{path}/contest", data=form | {"contact": "nobody", "csrf_token": token})
    assert (
        invalid.status_code == 422
        and "Give a phone number or an e-mail address for the reply." in invalid.text
    )
    done = client.post(f"{path}/contest", data=form | {"csrf_token": token}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"{path}?contested=1")
    page = client.get(f"{path}?contested=1")
    assert "Your contest was recorded" in page.text and "status-contested" in page.text


def test_officer_pages_redirect_to_login_and_evidence_is_401(client, seed):
    for path in (
        "/officer/review",
        "/officer/contests",
        "/officer/dashboard",
        f"/officer/violations/{seed.pending_id}",
    ):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, f"/login?next={path}")
    evidence = client.get(f"/officer/evidence/{seed.evidence_ids[0]}")
    assert evidence.status_code == 401
    assert (
        client.post(f"/officer/review/{seed.pending_id}/approve", data={}).status_code == 403
    )  # no CSRF first


def test_login_logout_and_a_forged_session(client, seed):
    wrong = login(client, OFFICER[0], "not the password")
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    ok = login(client, *OFFICER)
    assert (ok.status_code, ok.headers["location"]) == (303, "/officer/review")
    assert "HttpOnly" in ok.headers["set-cookie"] and "SameSite=strict" in ok.headers["set-cookie"]
    assert client.get("/officer/review").status_code == 200
    session_cookie = client.cookies["anpr_session"]
    token = csrf_token(client, "/officer/review")
    logout = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert (logout.status_code, logout.headers["location"]) == (303, "/login")
    assert client.get("/officer/review", follow_redirects=False).status_code == 303
    tampered = session_cookie[:-3] + ("abc" if not session_cookie.endswith("abc") else "xyz")
    client.cookies.clear()
    client.cookies.set("anpr_session", tampered)
    assert client.get("/officer/review", follow_redirects=False).status_code == 303
    # Nor does the untouched value: signing out ended the session on the server (test_sessions.py).
    client.cookies.clear()
    client.cookies.set("anpr_session", session_cookie)
    assert client.get("/officer/review", follow_redirects=False).status_code == 303


def test_login_rotates_the_csrf_token(client, seed):
    before = csrf_token(client, "/login")
    login(client, *OFFICER)
    stale = client.post(
        f"/officer/review/{seed.pending_id}/reject", data={"reason": "dup", "csrf_token": before}
    )
    assert stale.status_code == 403


def test_officer_approves_with_a_candidate_from_the_queue(client, seed, session):
    login(client, *OFFICER)
    queue = client.get("/officer/review")
    assert "1 pending" in queue.text and f'id="v{seed.pending_id}"' in queue.text
    assert 'data-key="1"' in queue.text and "78.4 km/h" in queue.text
    assert OWNER.owner_name not in queue.text  # the queue shows evidence, not owners
    token = csrf_token(client, "/officer/review")
    done = client.post(
        f"/officer/review/{seed.pending_id}/approve",
        data={"plate": "LEH5789", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(
        "/officer/review?done=approved&n=PB-"
    )
    assert "Approved: challan PB-" in client.get(done.headers["location"]).text
    violation = session.get(Violation, seed.pending_id)
    session.refresh(violation)
    assert (violation.status, violation.corrected_plate, violation.reviewed_by) == (
        "issued",
        "LEH5789",
        "insp.sana",
    )
    again = client.post(f"/officer/review/{seed.pending_id}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and "only a pending violation can be approved" in again.text


def test_officer_rejects_with_a_reason_and_sees_the_full_record(client, seed, session):
    login(client, *OFFICER)
    record = client.get(f"/officer/violations/{seed.pending_id}")
    assert record.status_code == 200 and "Plate not in the vehicle registry" in record.text  # LEH5780
    token = csrf_token(client, "/officer/review")
    empty = client.post(
        f"/officer/review/{seed.pending_id}/reject", data={"reason": " ", "csrf_token": token}
    )
    assert empty.status_code == 422 and "reason must not be empty" in empty.text
    done = client.post(
        f"/officer/review/{seed.pending_id}/reject", data={"reason": "Plate unreadable", "csrf_token": token}
    )
    assert done.status_code == 200 and "rejected" in done.text
    violation = session.get(Violation, seed.pending_id)
    session.refresh(violation)
    assert (violation.status, violation.rejection_reason) == ("rejected", "Plate unreadable")


def test_contested_challans_are_decided_from_the_contests_page(client, seed):
    path = f"/challans/{seed.number}"
    form = {"reason": "The light was amber, not red.", "contact": "0301 2345678", "cnic": OWNER.owner_cnic}
    client.post(f"{path}/contest", data=form | {"csrf_token": csrf_token(client, path)})
    login(client, *OFFICER)
    page = client.get("/officer/contests")
    assert seed.number in page.text and "The light was amber, not red." in page.text
    token = csrf_token(client, "/officer/contests")
    upheld = client.post(
        f"/officer/contests/{seed.number}/uphold", data={"reason": "Red for 2.4 s", "csrf_token": token}
    )
    assert upheld.status_code == 200 and f"challan {seed.number} upheld" in upheld.text
    assert client.get(f"/api/v1/verify/{seed.number}").json()["status"] == "upheld"


def test_dashboard_draws_svg_charts_and_accounts_are_admin_only(client, seed):
    login(client, *OFFICER)
    dashboard = client.get("/officer/dashboard", params={"days": 7})
    assert dashboard.status_code == 200 and dashboard.text.count("<svg") == 4
    assert (
        "<title>lhr-mall-road-01: 3</title>" in dashboard.text and "3 violations recorded" in dashboard.text
    )
    assert client.get("/officer/accounts").status_code == 403
    login(client, *ADMIN)
    accounts = client.get("/officer/accounts")
    assert accounts.status_code == 200 and "insp.sana" in accounts.text and "chief" in accounts.text


def test_an_admin_signs_an_account_out_everywhere_from_the_accounts_page(client, settings, seed):
    """The officer's phone (a token) and browser (a session) both stop at once; the admin's own
    session goes on; without the form's CSRF token nothing happens."""
    from fastapi.testclient import TestClient

    from challan.web.app import create_app
    from tests.challan.web.conftest import bearer

    with TestClient(create_app(settings), base_url="http://testserver") as browser:
        assert login(browser, *OFFICER).status_code == 303
        phone = bearer(client, *OFFICER)
        login(client, *ADMIN)
        page = client.get("/officer/accounts")
        assert 'action="/officer/accounts/insp.sana/sign-out"' in page.text
        refused = client.post("/officer/accounts/insp.sana/sign-out", follow_redirects=False)
        assert refused.status_code == 403 and browser.get("/officer/review").status_code == 200
        done = client.post(
            "/officer/accounts/insp.sana/sign-out",
            data={"csrf_token": csrf_token(client, "/officer/accounts")},
            follow_redirects=False,
        )
        assert (done.status_code, done.headers["location"]) == (303, "/officer/accounts?signed_out=insp.sana")
        assert "insp.sana is signed out everywhere" in client.get(done.headers["location"]).text
        assert client.get("/api/v1/officers/me", headers=phone).status_code == 401
        assert browser.get("/officer/review", follow_redirects=False).status_code in (302, 303)
        assert client.get("/officer/accounts").status_code == 200  # the admin is still signed in
        missing = client.post(
            "/officer/accounts/nobody/sign-out",
            data={"csrf_token": csrf_token(client, "/officer/accounts")},
            follow_redirects=False,
        )
        assert missing.status_code == 404


def test_the_review_card_shows_the_year_the_camera_read(client, seed, session, settings, images):
    """A Punjab plate's year is part of what the officer approves (the notice prints it), so the card
    and the violation page show it beside the camera's read."""
    from tests.challan.conftest import record

    violation = record(session, settings, images, plate="LEC1940", year="13", track_id=7)
    login(client, *OFFICER)
    review = client.get("/officer/review")
    assert review.status_code == 200 and "year 13" in review.text and "LEC1940" in review.text
    page = client.get(f"/officer/violations/{violation.id}")
    assert page.status_code == 200 and "LEC1940 year 13" in page.text


def test_a_read_under_the_calibrated_confidence_is_marked_uncertain_for_the_officer(
    client, seed, session, settings, images
):
    """Misreads sat under UNCERTAIN_READ on the held-back halves: the review card and the record say
    so beside such a read, and not beside a confident one."""
    from anpr.types import UNCERTAIN_READ
    from tests.challan.conftest import record

    login(client, *OFFICER)
    assert "Uncertain read" not in client.get("/officer/review").text  # the seeded read is at 0.91
    unsure = record(session, settings, images, plate="LEC1840", confidence=UNCERTAIN_READ - 0.05, track_id=8)
    review = client.get("/officer/review")
    card = review.text.split(f'id="v{unsure.id}"')[1].split("</article>")[0]
    assert "Uncertain read: check every character against the close-up" in card
    assert review.text.count("Uncertain read") == 1
    assert "uncertain read" in client.get(f"/officer/violations/{unsure.id}").text
    assert "uncertain read" not in client.get(f"/officer/violations/{seed.pending_id}").text


def test_the_review_card_checks_the_read_against_the_vehicle_registry(
    client, seed, session, settings, images
):
    """A registered plate on a vehicle of the wrong kind (the registry's car seen as a motorcycle) is
    most likely a misread: the card says so. A plate the registry lacks is said plainly, and each
    candidate the registry knows shows its class."""
    from tests.challan.conftest import record

    login(client, *OFFICER)
    pending = client.get("/officer/review").text.split(f'id="v{seed.pending_id}"')[1].split("</article>")[0]
    assert "Not in the vehicle registry" in pending and "likely misread" not in pending
    bike = record(session, settings, images, plate="LEH5789", vehicle_type="motorcycle", track_id=9)
    car = record(session, settings, images, plate="LEH5789", vehicle_type="car", track_id=10)
    review = client.get("/officer/review").text
    card = review.split(f'id="v{bike.id}"')[1].split("</article>")[0]
    assert "Registry: car, but the camera saw a motorcycle: likely misread" in card
    assert "registered car" in card  # the first candidate, LEH5789, is in the registry
    card = review.split(f'id="v{car.id}"')[1].split("</article>")[0]
    assert "Registry: car" in card and "likely misread" not in card


def test_the_review_card_checks_the_read_year_against_the_registry(client, seed, session, settings, images):
    """The small raised year of a Punjab plate is what the reader loses first, and the challan prints
    the registry's year: a read year the registry contradicts is flagged on the card, a matching one
    is not."""
    from challan import crud
    from tests.challan.conftest import record

    crud.save_vehicle(
        session, data=OWNER.model_copy(update={"plate": "LED6129", "registration_year": "2010"}), actor="test"
    )
    session.commit()
    login(client, *OFFICER)
    wrong = record(session, settings, images, plate="LED6129", year="18", track_id=11)
    right = record(session, settings, images, plate="LED6129", year="10", track_id=12)
    review = client.get("/officer/review").text
    card = review.split(f'id="v{wrong.id}"')[1].split("</article>")[0]
    assert "Camera read year 18, registry says 2010: check the year on the close-up" in card
    card = review.split(f'id="v{right.id}"')[1].split("</article>")[0]
    assert "Registry: car, year 2010" in card and "check the year" not in card
    assert review.count("check the year") == 1


def test_the_review_card_shows_the_other_years_the_camera_read(client, seed, session, settings, images):
    """A year the reader was unsure of (LED-10 whose 0 may be an 8) is shown with the years it
    weighed, so that the officer checks the year on the close-up; a sure year shows alone."""
    from tests.challan.conftest import record

    login(client, *OFFICER)
    unsure = record(session, settings, images, plate="LED6129", year="10", track_id=13,
                    year_candidates=(("10", 0.40), ("18", 0.38), ("19", 0.22)))  # fmt: skip
    sure = record(session, settings, images, plate="LEC1840", year="12", track_id=14,
                  year_candidates=(("12", 0.99), ("13", 0.01)))  # fmt: skip
    review = client.get("/officer/review").text
    card = review.split(f'id="v{unsure.id}"')[1].split("</article>")[0]
    assert "also read year 18 (38%), 19 (22%)" in card
    card = review.split(f'id="v{sure.id}"')[1].split("</article>")[0]
    assert "year 12" in card and "also read year" not in card  # a 1 % year is not worth a look


def test_the_review_card_says_plate_unreadable_and_approves_only_a_typed_plate(
    client, seed, session, settings, images
):
    """A violation whose plate the camera could not read (issue #25) is recorded with no plate: the
    card says so, offers no plain approval, and still offers the reader's alternatives."""
    from tests.challan.conftest import record

    login(client, *OFFICER)
    unread = record(session, settings, images, plate="", confidence=0.0056, track_id=15)
    review = client.get("/officer/review").text
    card = review.split(f'id="v{unread.id}"')[1].split("</article>")[0]
    assert "plate unreadable" in card and "Camera read <span" in card
    assert "type it from the close-up or pick a candidate, or reject" in card
    assert 'data-action="approve" disabled' in card
    assert 'value="LEH5780"' in card  # the alternative the reader weighed
    other = review.split(f'id="v{seed.pending_id}"')[1].split("</article>")[0]
    assert "plate unreadable" not in other and 'data-action="approve" disabled' not in other
    page = client.get(f"/officer/violations/{unread.id}").text
    assert page.count("plate unreadable") >= 2  # the plate and the camera's read, beside the card
    token = csrf_token(client, "/officer/review")
    plain = client.post(f"/officer/review/{unread.id}/approve", data={"csrf_token": token})
    assert plain.status_code == 422 and "has no plate read" in plain.text
    typed = client.post(
        f"/officer/review/{unread.id}/approve",
        data={"plate": "LEH 5789", "csrf_token": token},
        follow_redirects=False,
    )
    assert typed.status_code == 303
    session.refresh(unread)
    assert (unread.status, unread.plate_text, unread.corrected_plate) == ("issued", "", "LEH5789")
