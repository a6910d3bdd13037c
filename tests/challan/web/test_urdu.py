"""The citizen's pages in Urdu (challan.i18n): a toggle that is remembered, the browser's language
on a first visit, right-to-left pages whose facts (plate, challan number, PSID, fine) stay as they
are, the payment steps and the violation in Urdu, and the officers' pages left in English. The
layout on a phone, in Chromium, is in test_phone."""

from __future__ import annotations

import re

from tests.challan.web.conftest import OFFICER, csrf_token, login

URDU_LOOKUP = "ٹریفک چالان تلاش کریں"


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def test_the_toggle_switches_to_urdu_and_is_remembered(client):
    english = client.get("/")
    assert 'lang="en" dir="ltr"' in html_tag(english.text)
    assert "Look up traffic challans" in english.text
    assert 'href="http://testserver/?lang=ur"' in english.text  # the toggle, in the page's header

    urdu = client.get("/?lang=ur")
    assert 'lang="ur" dir="rtl"' in html_tag(urdu.text)
    assert URDU_LOOKUP in urdu.text and "Look up traffic challans" not in urdu.text
    assert urdu.headers["content-language"] == "ur"
    assert "Accept-Language" in urdu.headers["vary"]
    assert client.cookies.get("lang") == "ur"

    again = client.get("/")  # the cookie, no parameter
    assert URDU_LOOKUP in again.text
    back = client.get("/?lang=en")
    assert "Look up traffic challans" in back.text and client.cookies.get("lang") == "en"


def test_a_first_visit_follows_the_browsers_language(client):
    page = client.get("/", headers={"Accept-Language": "ur-PK,ur;q=0.9,en;q=0.8"})
    assert URDU_LOOKUP in page.text
    assert "lang" not in client.cookies  # nothing remembered that the citizen did not choose
    assert "Look up traffic challans" in client.get("/", headers={"Accept-Language": "en-GB"}).text


def test_a_challan_in_urdu(client, seed):
    page = client.get(f"/challans/{seed.number}?lang=ur").text
    assert 'lang="ur" dir="rtl"' in html_tag(page)
    assert "اشارہ توڑنا" in page  # the violation's Urdu title from the fine schedule
    assert "ادائیگی کا طریقہ" in page and "5,000 روپے" in page
    # the payment steps in Urdu, with the challan's PSID in them
    psid = re.search(r'class="mono">(\d{18})<', page).group(1)
    assert f"PSID {psid} درج کریں" in page
    assert "بینک کی اطلاع ملتے ہی" in page  # what happens once paid
    # the facts are left as they are: the plate, the number, the PSID
    assert '<span class="plate">LEH5789</span>' in page and seed.number in page
    assert "Signal violation" not in page and "How to pay" not in page
    assert re.search(
        r"\d{1,2} (جنوری|فروری|مارچ|اپریل|مئی|جون|جولائی|اگست|ستمبر|اکتوبر|نومبر|دسمبر) \d{4}", page
    )


def test_the_verify_page_in_urdu(client, seed):
    page = client.get(f"/verify/{seed.number}?lang=ur").text
    assert "اصل چالان" in page and "پنجاب سیف سٹیز اتھارٹی" in page
    assert "جاری شدہ" in page  # the status
    fake = client.get("/verify/PB-2026-999999-ZZZZ?lang=ur")
    assert fake.status_code == 404 and "اصل چالان نہیں" in fake.text


def test_a_refusal_in_urdu_and_what_was_typed_stays_text(client, seed):
    client.get("/?lang=ur")
    token = csrf_token(client, f"/challans/{seed.number}")
    page = client.post(f"/challans/{seed.number}", data={"cnic": "11111-1111111-1", "csrf_token": token})
    assert page.status_code == 403
    assert "شناختی کارڈ نمبر اس گاڑی کے رجسٹرڈ مالک سے مطابقت نہیں رکھتا" in page.text
    # the toggle on a page that answers a form goes to the look-up (a link cannot repeat the form)
    assert 'href="/?lang=en"' in page.text
    hostile = client.get("/challans", params={"plate": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in hostile.text


def test_the_officers_pages_stay_in_english(client):
    client.get("/?lang=ur")
    login(client, *OFFICER)
    queue = client.get("/officer/review?lang=ur")
    assert queue.status_code == 200
    assert 'lang="en" dir="ltr"' in html_tag(queue.text)
    assert "ای چالان پورٹل" not in queue.text
