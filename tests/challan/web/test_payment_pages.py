"""Paying, as the citizen's pages and the API tell it: how to pay an open challan (PSID, ePay, bank and
wallet steps with the amount due), the payment's date and reference on the verification page of a
paid one, and the amount after the due date where the schedule sets one."""

import html
import re
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session

from challan import lifecycle
from challan.db import get_engine
from challan.settings import DEFAULT_FINES
from challan.web.settings import PortalSettings


def text_of(page: str) -> str:
    """A page's words as a reader sees them (tags and repeated spaces out)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def pay(settings, number: str, reference: str = "hbl-7731") -> None:
    with Session(get_engine(settings.database_url)) as session:
        lifecycle.record_payment(session, number=number, reference=reference, settings=settings)
        session.commit()


def test_an_open_challan_says_how_to_pay(client, seed):
    page = client.get(f"/challans/{seed.number}")
    assert page.status_code == 200
    text = text_of(page.text)
    psid = client.get(f"/api/v1/challans/{seed.number}").json()["psid"]
    assert "How to pay Pay PKR 5,000 by " in text and f"against PSID {psid}" in text
    for channel in ("ePay Punjab app or website", "Mobile banking or wallet", "Bank branch"):
        assert channel in text
    assert f"Enter PSID {psid}; check that it shows challan {seed.number} and PKR 5,000." in text
    assert "Bank of Punjab or the National Bank of Pakistan" in text
    assert "After the due date" not in text  # the Punjab schedule sets no late amount

    detail = client.get(f"/api/v1/challans/{seed.number}").json()
    assert (detail["amount_due_pkr"], detail["late_fine_pkr"], detail["payment"]) == (5000, None, None)
    assert [c["name"] for c in detail["how_to_pay"]][0] == "ePay Punjab app or website"
    assert any(psid in step for step in detail["how_to_pay"][0]["steps"])


def test_the_verification_page_of_a_paid_challan_shows_when_and_by_what_reference(client, seed, settings):
    before = text_of(client.get(f"/verify/{seed.number}").text)
    assert "Paid on" not in before
    pay(settings, seed.number)

    verify = text_of(client.get(f"/verify/{seed.number}").text)
    assert "Current status paid" in verify
    assert re.search(r"Paid on \d\d \w\w\w 20\d\d, \d\d:\d\d:\d\d PKT Payment reference HBL-7731", verify)
    assert "Amount paid PKR 5,000" in verify
    api = client.get(f"/api/v1/verify/{seed.number}").json()
    assert (api["payment"]["reference"], api["payment"]["amount_pkr"]) == ("HBL-7731", 5000)

    page = text_of(client.get(f"/challans/{seed.number}").text)
    assert "How to pay" not in page and "Paid PKR 5,000 on" in page and "reference HBL-7731" in page
    unpaid = text_of(client.get(f"/verify/{seed.old_number}").text)
    assert "Paid on" not in unpaid and "Payment reference" not in unpaid


class TestWithALateAmount:
    @pytest.fixture
    def settings(self, db_url, tmp_path) -> PortalSettings:
        raw = yaml.safe_load(DEFAULT_FINES.read_text(encoding="utf-8"))
        raw["schedules"][0]["late_payment"] = {"surcharge_percent": 50, "source": "a test schedule"}
        fines = Path(tmp_path / "fines-late.yaml")
        fines.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        return PortalSettings(
            database_url=db_url,
            evidence_dir=tmp_path / "evidence",
            public_url="https://echallan.example.pk/",
            secret_key="a test secret key, long enough",
            lookups_per_minute=1000,
            logins_per_minute=1000,
            fines_path=fines,
        )

    def test_the_pages_say_what_is_due_after_the_due_date(self, client, seed):
        fresh = text_of(client.get(f"/challans/{seed.number}").text)
        assert "After the due date PKR 7,500" in fresh
        assert "After the due date it is PKR 7,500." in fresh and "Pay PKR 5,000 by" in fresh

        overdue = text_of(client.get(f"/challans/{seed.old_number}").text)  # due on 29 Mar 2026
        assert "Pay PKR 7,500 against PSID" in overdue
        assert "The due date, 29 Mar 2026, has passed: the amount after it is due." in overdue
        assert client.get(f"/api/v1/challans/{seed.old_number}").json()["amount_due_pkr"] == 7500
        assert "After the due date PKR 7,500" in text_of(client.get(f"/verify/{seed.old_number}").text)

    def test_a_payment_after_the_due_date_is_the_late_amount(self, client, seed, settings):
        pay(settings, seed.old_number, "EPAY-1")
        verify = text_of(client.get(f"/verify/{seed.old_number}").text)
        assert "Payment reference EPAY-1 Amount paid PKR 7,500" in verify
