"""The JSON API on SQLite and PostgreSQL: exact status codes, bodies and error details."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from challan import lifecycle
from challan.models import Challan, Violation
from tests.challan.conftest import record
from tests.challan.web.conftest import ADMIN, OFFICER, OWNER, bearer

SUMMARY_FIELDS = {
    "number", "plate", "violation", "violation_title", "violation_urdu", "site", "site_name", "occurred_at",
    "issued_at", "issued_on", "due_date", "fine_pkr", "status", "url", "pdf_url", "verify_url",
}  # fmt: skip


def test_plate_lookup_lists_the_plates_challans(client, seed):
    response = client.get("/api/v1/challans", params={"plate": "leh-5789"})
    assert response.status_code == 200
    found = response.json()
    assert [c["number"] for c in found] == [seed.number, seed.old_number]  # latest issued first
    first = found[0]
    assert set(first) == SUMMARY_FIELDS
    assert (first["plate"], first["violation"], first["violation_title"]) == (
        "LEH5789",
        "RED_LIGHT",
        "Signal violation",
    )
    assert (first["fine_pkr"], first["status"], first["site"]) == (5000, "issued", "lhr-mall-road-01")
    assert first["occurred_at"] == "2026-03-14T12:42:09.400000Z"
    assert date.fromisoformat(first["due_date"]) - date.fromisoformat(first["issued_on"]) == (
        date(2000, 1, 15) - date(2000, 1, 1)
    )
    assert first["verify_url"] == f"https://echallan.example.pk/verify/{seed.number}"
    assert first["pdf_url"] == f"/challans/{seed.number}.pdf"
    assert "owner" not in first and "Siddiqui" not in response.text and OWNER.owner_cnic not in response.text


def test_plate_lookup_of_an_unknown_plate_is_an_empty_list(client, seed):
    response = client.get("/api/v1/challans", params={"plate": "ZZZ999"})
    assert (response.status_code, response.json()) == (200, [])


def test_malformed_plates_are_refused_with_the_reason(client, seed):
    response = client.get("/api/v1/challans", params={"plate": "LEH'; DROP TABLE challans;--"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["query", "plate"], "string_pattern_mismatch")
    for plate in ("L", "", "LEH57890123456"):  # too short, empty, too long
        assert client.get("/api/v1/challans", params={"plate": plate}).status_code == 422, plate
    missing = client.get("/api/v1/challans")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "plate"]
    # the injection attempt reached no query: the table is intact and still answers
    assert len(client.get("/api/v1/challans", params={"plate": "LEH5789"}).json()) == 2


def test_challan_detail_has_no_personal_data_without_the_owners_cnic(client, seed):
    response = client.get(f"/api/v1/challans/{seed.number.lower()}")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == seed.number and body["owner"] is None
    assert OWNER.owner_name not in response.text and OWNER.owner_cnic not in response.text
    assert OWNER.owner_address not in response.text
    assert [(e["kind"], e["status"]) for e in body["evidence"]] == [("scene_at", "ok"), ("plate_crop", "ok")]
    assert body["evidence"][0]["url"].startswith(f"/challans/{seed.number}/evidence/{seed.evidence_ids[0]}/")
    assert body["measurements"][0] == {"label": "Time into red", "value": "2.4 s after the signal turned red"}
    assert body["can_contest"] is True


def test_the_owners_cnic_reveals_personal_data_and_a_wrong_one_is_refused(client, seed):
    right = client.get(f"/api/v1/challans/{seed.number}", headers={"X-Owner-CNIC": "3520276543218"})
    assert right.status_code == 200
    assert right.json()["owner"] == {
        "name": "Ayesha Siddiqui",
        "cnic": "35202-7654321-8",
        "address": "14 Mozang Road, Lahore",
    }
    wrong = client.get(f"/api/v1/challans/{seed.number}", headers={"X-Owner-CNIC": "35202-7654321-9"})
    assert (wrong.status_code, wrong.json()) == (
        403,
        {"detail": "The CNIC does not match the registered owner"},
    )


def test_officers_see_personal_data_with_a_token(client, seed):
    response = client.get(f"/api/v1/challans/{seed.number}", headers=bearer(client, *OFFICER))
    assert response.json()["owner"]["name"] == "Ayesha Siddiqui"


def test_unknown_and_malformed_numbers_are_404(client, seed):
    unknown = client.get("/api/v1/challans/PB-2026-999999-AAAA")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"detail": "no challan numbered PB-2026-999999-AAAA"},
    )
    dotted = client.get("/api/v1/challans/..%5C..%5Cwin.ini")
    assert (dotted.status_code, dotted.json()) == (404, {"detail": "no challan numbered ..\\..\\win.ini"})
    traversal = client.get("/api/v1/challans/..%2F..%2Fetc%2Fpasswd")  # no route matches with the slashes
    assert (traversal.status_code, traversal.json()) == (404, {"detail": "Not Found"})
    assert client.get("/api/v1/verify/PB-2026-999999-AAAA").status_code == 404


def test_verify_says_genuine_with_the_current_status(client, seed):
    response = client.get(f"/api/v1/verify/{seed.number}")
    assert response.status_code == 200
    body = response.json()
    assert (body["genuine"], body["number"], body["status"], body["plate"]) == (
        True,
        seed.number,
        "issued",
        "LEH5789",
    )


def test_contest_needs_the_owners_cnic_and_the_open_window(client, seed, session):
    body = {
        "reason": "My car was parked at home at that time.",
        "contact": "0300-1234567",
        "cnic": "35202-7654321-8",
    }
    stranger = client.post(f"/api/v1/challans/{seed.number}/contest", json=body | {"cnic": "11111-1111111-1"})
    assert (stranger.status_code, stranger.json()) == (
        403,
        {"detail": "The CNIC does not match the registered owner"},
    )
    late = client.post(f"/api/v1/challans/{seed.old_number}/contest", json=body)
    assert (late.status_code, late.json()) == (409, {"detail": "The contest window closed on 22 Mar 2026"})
    ok = client.post(f"/api/v1/challans/{seed.number}/contest", json=body)
    assert ok.status_code == 200
    assert (ok.json()["status"], ok.json()["can_contest"], ok.json()["owner"]) == ("contested", False, None)
    again = client.post(f"/api/v1/challans/{seed.number}/contest", json=body)
    assert again.status_code == 409
    assert again.json()["detail"].endswith("is contested; only an issued, unpaid challan can be contested")
    challan = session.exec(select(Challan).where(Challan.number == seed.number)).one()
    session.refresh(challan)
    assert challan.contest_reason == body["reason"]


def test_contest_input_is_validated(client, seed):
    bad = client.post(
        f"/api/v1/challans/{seed.number}/contest",
        json={"reason": "short", "contact": "<script>", "cnic": "35202-7654321-8", "extra": 1},
    )
    assert bad.status_code == 422
    assert sorted(e["loc"][-1] for e in bad.json()["detail"]) == ["contact", "extra", "reason"]


def test_officer_api_needs_a_valid_token(client, seed):
    for method, path in [
        ("get", "/api/v1/violations/pending"),
        ("post", f"/api/v1/violations/{seed.pending_id}/approve"),
        ("get", "/api/v1/contests"),
        ("get", "/api/v1/stats"),
        ("get", "/api/v1/officers/me"),
    ]:
        response = getattr(client, method)(path, **({"json": {}} if method == "post" else {}))
        assert (response.status_code, response.json()) == (401, {"detail": "Not authenticated"}), path
        assert response.headers["www-authenticate"] == "Bearer"
    forged = client.get("/api/v1/officers/me", headers={"Authorization": "Bearer eyJvIjoxfQ.forged.sig"})
    assert (forged.status_code, forged.json()) == (401, {"detail": "Invalid or expired token"})


def test_login_token_with_a_wrong_password_is_401(client, seed):
    response = client.post(
        "/api/v1/login/access-token", data={"username": OFFICER[0], "password": "guess-guess"}
    )
    assert (response.status_code, response.json()) == (401, {"detail": "Wrong username or password"})


def test_officer_reviews_through_the_api(client, seed, session):
    auth = bearer(client, *OFFICER)
    queue = client.get("/api/v1/violations/pending", headers=auth).json()
    assert [v["id"] for v in queue] == [seed.pending_id]
    assert queue[0]["uncertain_read"] is False  # read at 0.91
    assert queue[0]["candidates"] == [
        {"text": "LEH5780", "confidence": 0.91, "registered_class": None},
        {"text": "LEH5780", "confidence": 0.4, "registered_class": None},
    ]
    assert (queue[0]["registered_class"], queue[0]["class_conflict"]) == (None, False)  # not registered
    assert (queue[0]["registered_year"], queue[0]["year_conflict"]) == (None, False)
    assert queue[0]["year_candidates"] == []  # the seeded plate has no year
    approved = client.post(
        f"/api/v1/violations/{seed.pending_id}/approve", json={"plate": "LEH-5789"}, headers=auth
    )
    assert approved.status_code == 200
    assert (approved.json()["plate"], approved.json()["status"], approved.json()["violation"]) == (
        "LEH5789", "issued", "OVER_SPEED")  # fmt: skip
    violation = session.get(Violation, seed.pending_id)
    session.refresh(violation)
    assert (violation.plate_text, violation.corrected_plate, violation.reviewed_by) == (
        "LEH5780",
        "LEH5789",
        "insp.sana",
    )
    twice = client.post(f"/api/v1/violations/{seed.pending_id}/approve", json={}, headers=auth)
    assert twice.status_code == 409
    assert twice.json()["detail"].startswith(f"violation {seed.pending_id} (challan ")
    assert client.get("/api/v1/violations/pending", headers=auth).json() == []


def test_reject_needs_a_reason_and_ids_are_bounded(client, seed):
    auth = bearer(client, *OFFICER)
    empty = client.post(f"/api/v1/violations/{seed.pending_id}/reject", json={"reason": "  "}, headers=auth)
    assert empty.status_code == 422
    huge = client.post(
        "/api/v1/violations/99999999999/reject", json={"reason": "plate unreadable"}, headers=auth
    )
    assert huge.status_code == 422 and huge.json()["detail"][0]["loc"] == ["path", "violation_id"]
    missing = client.post(
        "/api/v1/violations/424242/reject", json={"reason": "plate unreadable"}, headers=auth
    )
    assert (missing.status_code, missing.json()) == (404, {"detail": "no violation with id 424242"})
    done = client.post(
        f"/api/v1/violations/{seed.pending_id}/reject", json={"reason": "Plate unreadable"}, headers=auth
    )
    assert (done.status_code, done.json()) == (
        200,
        {"id": seed.pending_id, "status": "rejected", "reason": "Plate unreadable"},
    )


def test_contests_are_upheld_or_cancelled_by_officers(client, seed):
    body = {
        "reason": "The signal was green when I crossed.",
        "contact": "owner@example.pk",
        "cnic": OWNER.owner_cnic,
    }
    assert client.post(f"/api/v1/challans/{seed.number}/contest", json=body).status_code == 200
    auth = bearer(client, *OFFICER)
    queue = client.get("/api/v1/contests", headers=auth).json()
    assert [(c["number"], c["owner"]["cnic"]) for c in queue] == [(seed.number, OWNER.owner_cnic)]
    unknown = client.post(f"/api/v1/contests/{seed.number}/pardon", json={"reason": "x y z"}, headers=auth)
    assert unknown.status_code == 422
    cancelled = client.post(
        f"/api/v1/contests/{seed.number}/cancel", json={"reason": "Signal log shows green"}, headers=auth
    )
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert client.get(f"/api/v1/verify/{seed.number}").json()["status"] == "cancelled"
    again = client.post(
        f"/api/v1/contests/{seed.number}/uphold", json={"reason": "changed my mind"}, headers=auth
    )
    assert again.status_code == 409


def test_stats_count_by_site_violation_status_and_day(client, seed, session, settings, images):
    # 23:30 Pakistan time two days ago is 18:30 UTC: the day is counted where the offence happened
    today = lifecycle.today(settings)
    late = datetime.combine(today - timedelta(days=2), time(23, 30), tzinfo=ZoneInfo("Asia/Karachi"))
    record(session, settings, images, track_id=7, at=late.astimezone(UTC), site_id="isb-blue-area-02")
    stats = client.get("/api/v1/stats", params={"days": 7}, headers=bearer(client, *OFFICER)).json()
    assert stats["total"] == 4
    assert stats["by_site"] == [
        {"key": "lhr-mall-road-01", "count": 3},
        {"key": "isb-blue-area-02", "count": 1},
    ]
    assert stats["by_violation"] == [{"key": "RED_LIGHT", "count": 3}, {"key": "OVER_SPEED", "count": 1}]
    assert stats["by_status"] == [{"key": "issued", "count": 2}, {"key": "pending", "count": 2}]
    by_day = {d["key"]: d["count"] for d in stats["by_day"]}
    assert len(by_day) == 7 and list(by_day)[-1] == today.isoformat()
    assert {k: n for k, n in by_day.items() if n} == {(today - timedelta(days=2)).isoformat(): 1}


def test_officer_accounts_are_for_admins_only(client, seed):
    refused = client.get("/api/v1/officers", headers=bearer(client, *OFFICER))
    assert (refused.status_code, refused.json()) == (403, {"detail": "Admin role required"})
    listed = client.get("/api/v1/officers", headers=bearer(client, *ADMIN)).json()
    unnamed = {"full_name": None, "rank": None, "badge_number": None}  # accounts made without them
    assert listed == [
        {"username": "chief", "role": "admin", "active": True, **unnamed},
        {"username": "insp.sana", "role": "officer", "active": True, **unnamed},
    ]
