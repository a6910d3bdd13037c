"""The notice rendered for real, read back with poppler (pdftotext, pdfinfo, pdftoppm) and the QR code
decoded with OpenCV."""

import re
import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest

from challan import lifecycle
from challan.errors import EvidenceError, TransitionError
from challan.models import Vehicle
from challan.pdf import build_notice, challan_pdf, render_pdf
from tests.challan.conftest import record

pytestmark = [
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),  # the page does not depend on the database
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed"),
]
OWNER = Vehicle(
    plate="LEH5789",
    vehicle_class="car",
    owner_name="Muhammad Ali Khan",
    owner_cnic="35202-1234567-1",
    owner_address="House 12, Gulberg III, Lahore",
    make="Toyota Corolla",
    colour="White",
)


@pytest.fixture
def issued(session, settings, images):
    session.add(Vehicle.model_validate(OWNER.model_dump()))
    violation = record(session, settings, images, plate="LEH5780")
    challan = lifecycle.approve_violation(
        session,
        violation_id=violation.id,
        officer="Insp. Sana Tariq",
        corrected_plate="LEH5789",
        settings=settings,
    )
    session.commit()
    return challan


def read_back(tmp_path, data: bytes, name="notice.pdf") -> tuple[str, str]:
    path = tmp_path / name
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    # Words in reading order, line breaks aside (-layout would interleave the lines of the notice's
    # side-by-side columns).
    return " ".join(text.stdout.split()), info.stdout


def test_notice_is_one_a4_page_with_what_the_citizen_needs(session, settings, issued, tmp_path):
    text, info = read_back(
        tmp_path, render_pdf(build_notice(session, violation=issued.violation, settings=settings))
    )
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    assert re.search(r"^Page size:\s+595.276 x 841.89 pts \(A4\)$", info, re.MULTILINE)
    for expected in [
        issued.number,
        issued.psid,
        "LEH5789",
        "PKR 5,000",
        "Muhammad Ali Khan",
        "35202-1234567-1",
        "Signal violation",
        "14 Mar 2026, 17:42:09 PKT",  # 12:42:09 UTC shown in Pakistan time
        "2.4 s after the signal turned red",
        "Insp. Sana Tariq",
        "Plate read by the camera as LEH5780",
        "https://echallan.example.pk/verify/" + issued.number,
        *[e.sha256 for e in issued.violation.evidence],
    ]:
        assert expected in text, expected
    for urdu in ["ای چالان", "جرمانہ", "ثبوت", "ادائیگی کا طریقہ"]:
        assert urdu in text, urdu


def test_public_copy_leaves_out_personal_data(session, settings, issued, tmp_path):
    text, _ = read_back(tmp_path, challan_pdf(session, key=issued.number, public=True, settings=settings))
    assert issued.number in text and "LEH5789" in text
    for personal in ["Muhammad Ali Khan", "35202-1234567-1", "Gulberg"]:
        assert personal not in text


def embedded_images(tmp_path, data: bytes, name: str) -> list[bytes]:
    """The images a PDF embeds, as pdfimages writes them (a JPEG stream as its own bytes)."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "notice.pdf").write_bytes(data)
    subprocess.run(["pdfimages", "-all", str(folder / "notice.pdf"), str(folder / "img")], check=True)
    return [p.read_bytes() for p in sorted(folder.glob("img-*"))]


@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="poppler-utils is not installed")
def test_the_public_notice_shows_the_public_copies_never_the_originals(session, settings, issued, tmp_path):
    """The owner's notice embeds the originals as recorded (the JPEG byte for byte); the public
    notice, which anyone with the number may download, embeds the public copies the portal shows
    (bystanders blurred, a bar saying what was decided), so no original reaches the public."""
    originals = {(settings.evidence_dir / e.path).read_bytes() for e in issued.violation.evidence}
    full = embedded_images(tmp_path, challan_pdf(session, key=issued.number, settings=settings), "full")
    assert originals & set(full)  # the scene's JPEG, as recorded
    public = embedded_images(
        tmp_path, challan_pdf(session, key=issued.number, public=True, settings=settings), "public"
    )
    assert len(public) >= 2 and not originals & set(public)
    copies = list((settings.evidence_dir).rglob("public/*.webp"))
    assert copies, "the public copies were made, as the portal makes them"


def test_qr_code_opens_the_verification_page(session, settings, issued, tmp_path):
    cv2 = pytest.importorskip("cv2")
    path = tmp_path / "notice.pdf"
    path.write_bytes(challan_pdf(session, key=str(issued.violation_id), settings=settings))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(path), str(tmp_path / "page")], check=True
    )
    page = cv2.imread(str(tmp_path / "page.png"))
    decoded, points, _ = cv2.QRCodeDetector().detectAndDecode(page)
    assert decoded == f"https://echallan.example.pk/verify/{issued.number}"


def test_speed_notice_quotes_speed_and_limit(session, settings, images, tmp_path):
    violation = record(
        session, settings, images, code="OVER_SPEED", details={"speed_kmh": 78.24, "limit_kmh": 60}
    )
    challan = lifecycle.approve_violation(session, violation_id=violation.id, officer="B", settings=settings)
    session.commit()
    text, _ = read_back(tmp_path, challan_pdf(session, key=challan.number, settings=settings))
    assert "78.2 km/h" in text and "60 km/h" in text and "Over-speeding" in text


def test_a_section_notice_is_bilingual_and_stays_one_page(session, settings, images, tmp_path):
    """The longest notice: an average speed over a section quotes eight measurements, each label in
    English and Urdu; a registered owner's details too. Still one A4 page, the Urdu read back."""
    details = {
        "speed_kmh": 114.3,
        "limit_kmh": 80.0,
        "tolerance_kmh": 5.0,
        "method": "average-speed-section",
        "distance_m": 2000.0,
        "seconds": 63.0,
        "entry_site_id": "M2-RAVI-IN",
        "entry_at": "2026-03-14T12:41:06+00:00",
        "exit_site_id": "lhr-mall-road-01",
        "exit_at": "2026-03-14T12:42:09+00:00",
    }
    violation = record(session, settings, images, code="AVERAGE_SPEED", details=details)
    challan = lifecycle.approve_violation(session, violation_id=violation.id, officer="B", settings=settings)
    session.commit()
    text, info = read_back(tmp_path, challan_pdf(session, key=challan.number, settings=settings))
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    for expected in ["114.3 km/h", "Time over the section", "Over-speeding (average speed over a section)"]:
        assert expected in text, expected
    # (pdftotext drops the zer of حدِ: a mark above the line, not a letter)
    for urdu in ["اوسط رفتار", "سیکشن طے کرنے کا وقت", "حد رفتار", "سیکشن سے اخراج", "اعتراض کا طریقہ"]:
        assert urdu in text, urdu


def test_no_notice_before_issue(session, settings, images):
    violation = record(session, settings, images)
    with pytest.raises(TransitionError, match="is pending; only an issued challan has a notice"):
        challan_pdf(session, key=str(violation.id), settings=settings)


def test_changed_evidence_is_never_printed(session, settings, issued):
    crop = next(e for e in issued.violation.evidence if e.kind == "plate_crop")
    (settings.evidence_dir / crop.path).write_bytes(b"\x89PNG something else")
    with pytest.raises(EvidenceError, match="has changed"):
        challan_pdf(session, key=issued.number, settings=settings)


def test_a_paid_challan_is_stamped_and_stays_one_page(session, settings, issued, tmp_path):
    lifecycle.record_payment(session, number=issued.number, reference="HBL-1")
    session.commit()
    text, info = read_back(tmp_path, challan_pdf(session, key=issued.number, public=True, settings=settings))
    assert "PAID" in text.replace(" ", "")  # the rotated stamp comes back letter-spaced
    assert "Public copy:" in text
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)


def test_the_notice_prints_only_a_registration_year_someone_vouched_for(session, settings, images, tmp_path):
    """The camera's year is printed when the officer approved the plate as read (the review card
    shows the year); a corrected plate drops it (it came off the misread plate); the registry's
    year, where it has one, is the one printed."""
    session.add(Vehicle.model_validate(OWNER.model_dump() | {"plate": "LEC1940", "registration_year": "13"}))
    as_read = record(session, settings, images, plate="LEH5789", year="07", track_id=1)
    corrected = record(session, settings, images, plate="LEH5780", year="07", track_id=2)
    registered = record(session, settings, images, plate="LEC1940", year="11", track_id=3)
    approve = lambda v, plate=None: lifecycle.approve_violation(  # noqa: E731
        session, violation_id=v.id, officer="Insp. Sana Tariq", corrected_plate=plate, settings=settings
    )
    approve(as_read)
    approve(corrected, "LEH5790")
    approve(registered)
    session.commit()
    notices = [
        build_notice(session, violation=v, settings=settings) for v in (as_read, corrected, registered)
    ]
    assert [n.plate_year for n in notices] == ["07", None, "13"]
    text, _ = read_back(tmp_path, render_pdf(notices[0]))
    assert "LEH5789" in text and "(year 07)" in text  # beside it (its own line to pdftotext: a smaller font)
    text, _ = read_back(tmp_path, render_pdf(notices[1]), "corrected.pdf")
    assert "LEH5790" in text and "(year" not in text


def test_the_notice_gives_the_contest_deadline_the_portal_enforces(session, settings, images, tmp_path):
    violation = record(session, settings, images)
    challan = lifecycle.approve_violation(
        session,
        violation_id=violation.id,
        officer="B",
        settings=settings,
        now=datetime(2026, 3, 16, 5, tzinfo=UTC),
    )
    session.commit()
    text, _ = read_back(tmp_path, challan_pdf(session, key=challan.number, settings=settings))
    assert "contest it by 23 Mar 2026" in text
    longer = settings.model_copy(update={"contest_days": 30})
    assert lifecycle.contest_deadline(challan, longer) == date(2026, 4, 15)
    assert build_notice(session, violation=violation, settings=longer).contest_by == "15 Apr 2026"
