"""The amount after the due date, where the schedule sets one: validated with the schedule, kept on
the challan at issue (a term like the fine), what a payment after the due date records, and printed
on the notice. The shipped Punjab schedules set none."""

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from anpr.errors import ConfigError
from challan import lifecycle
from challan.audit import audit_trail
from challan.fines import load_fines
from challan.pdf import challan_pdf
from challan.settings import DEFAULT_FINES, Settings
from tests.challan.conftest import record


def late_schedule(tmp_path: Path, late: dict | None, *, payment_step: str | None = None) -> Path:
    raw = yaml.safe_load(DEFAULT_FINES.read_text(encoding="utf-8"))
    if late is not None:
        raw["schedules"][0]["late_payment"] = late
    if payment_step is not None:
        raw["payment"]["channels"][0]["steps"].append(payment_step)
    path = tmp_path / "fines-late.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


HALF_AGAIN = {"surcharge_percent": 50, "source": "a test schedule"}


@pytest.fixture
def late_settings(settings, tmp_path) -> Settings:
    return settings.model_copy(update={"fines_path": late_schedule(tmp_path, HALF_AGAIN)})


@pytest.mark.parametrize(
    ("late", "fine", "after"),
    [(HALF_AGAIN, 5000, 7500), ({"surcharge_pkr": 1000, "source": "s"}, 2000, 3000), (None, 5000, None)],
)
def test_a_schedule_may_set_the_amount_after_the_due_date(tmp_path, late, fine, after):
    fines = load_fines(late_schedule(tmp_path, late))
    cls = "car" if fine == 5000 else "motorcycle"
    found = fines.fine_for(code="RED_LIGHT", vehicle_class=cls, day=fines.schedules[0].effective_from)
    assert (found.amount_pkr, found.late_amount_pkr) == (fine, after)


@pytest.mark.parametrize(
    ("late", "step", "expected"),
    [
        (
            {"surcharge_percent": 50, "surcharge_pkr": 500, "source": "s"},
            None,
            "give one of surcharge_percent",
        ),
        ({"source": "s"}, None, "give one of surcharge_percent"),
        ({"surcharge_percent": 50}, None, "late_payment.source"),
        (None, "Pay {amount} to {account}", "names ['account']"),
    ],
)
def test_a_malformed_late_payment_or_guide_is_one_line(tmp_path, late, step, expected):
    with pytest.raises(ConfigError) as caught:
        load_fines(late_schedule(tmp_path, late, payment_step=step))
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_the_challan_keeps_its_late_amount_and_a_late_payment_pays_it(session, late_settings, images):
    settings = late_settings
    on_time, late = (record(session, settings, images, track_id=n) for n in (1, 2))
    first = lifecycle.approve_violation(session, violation_id=on_time.id, officer="B", settings=settings)
    second = lifecycle.approve_violation(session, violation_id=late.id, officer="B", settings=settings)
    assert (first.fine_pkr, first.late_fine_pkr) == (5000, 7500)
    issued = audit_trail(session, entity="challans", entity_id=first.id)[-1]
    assert issued.changes["late_fine_pkr"] == 7500

    due_day = lifecycle.today(settings, first.issued_at) + timedelta(days=settings.payment_days)
    on_due_day = first.issued_at + (due_day - first.issued_on)
    assert lifecycle.amount_due(first, settings, on_due_day) == 5000
    assert lifecycle.amount_due(first, settings, on_due_day + timedelta(days=1)) == 7500
    paid = lifecycle.record_payment(session, number=first.number, reference="HBL-1", settings=settings,
                                    now=on_due_day)  # fmt: skip
    paid_late = lifecycle.record_payment(session, number=second.number, reference="HBL-2", settings=settings,
                                         now=on_due_day + timedelta(days=1))  # fmt: skip
    session.commit()
    assert (paid.amount_pkr, paid_late.amount_pkr) == (5000, 7500)


def test_the_shipped_schedule_sets_no_late_amount(session, settings, images):
    violation = record(session, settings, images)
    challan = lifecycle.approve_violation(session, violation_id=violation.id, officer="B", settings=settings)
    assert challan.late_fine_pkr is None
    assert lifecycle.amount_due(challan, settings, challan.issued_at + timedelta(days=90)) == 5000


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_the_notice_prints_the_amount_after_the_due_date(session, late_settings, images, tmp_path):
    violation = record(session, late_settings, images)
    lifecycle.approve_violation(session, violation_id=violation.id, officer="B", settings=late_settings)
    session.commit()
    path = tmp_path / "notice.pdf"
    path.write_bytes(challan_pdf(session, key=str(violation.id), public=True, settings=late_settings))
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split()
    )
    # the facts table's row (its value is read out after the QR code beside it) and the payment note
    assert "PKR 5,000 After the due date \u202bآخری تاریخ کے بعد\u202c PKR 7,500" in text
    assert "Pay PKR 5,000 by" in text and "(PKR 7,500 after it) against PSID" in text
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
