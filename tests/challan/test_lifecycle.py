import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from anpr.errors import InputError
from challan import crud, lifecycle
from challan.audit import audit_trail
from challan.db import session_scope
from challan.errors import EvidenceError, FineError, NotFoundError, NotOwnerError, TransitionError
from challan.models import Challan, Payment, Vehicle, Violation
from tests.challan.conftest import record, snapshot

APPROVED_AT = datetime(2026, 3, 16, 5, 0, tzinfo=UTC)  # 10:00 in Pakistan
WITHIN_WINDOW = APPROVED_AT + timedelta(days=2)  # issued on 16 Mar: contestable until 23 Mar
OWNER_CNIC = "35202-1234567-1"


def approve(session, settings, violation, **kwargs):
    challan = lifecycle.approve_violation(
        session, violation_id=violation.id, officer="Insp. Sana", settings=settings, now=APPROVED_AT, **kwargs
    )
    session.commit()
    return challan


def actions(session, entity, entity_id):
    return [e.action for e in audit_trail(session, entity=entity, entity_id=entity_id)]


def test_approve_issues_the_challan_at_once(session, settings, images):
    violation = record(session, settings, images)
    challan = approve(session, settings, violation)
    assert violation.status == "issued"
    assert re.fullmatch(r"PB-2026-\d{6}-[A-Z0-9]{4}", challan.number)
    assert challan.number.split("-")[2] == f"{violation.id:06d}"
    assert re.fullmatch(r"\d{18}", challan.psid) and challan.psid.startswith("3201260316")
    assert lifecycle.luhn_digit(challan.psid[:-1]) == int(challan.psid[-1])
    assert (challan.issued_on, challan.due_on) == (date(2026, 3, 16), date(2026, 3, 30))
    assert (challan.fine_pkr, challan.fine_schedule, challan.fine_class) == (5000, "punjab-2025-11", "car")
    assert (challan.plate, challan.officer, violation.reviewed_by) == ("LEH5789", "Insp. Sana", "Insp. Sana")
    assert actions(session, "violations", violation.id) == ["record", "approve", "issue"]
    assert actions(session, "challans", challan.id) == ["issue"]
    approve_entry = audit_trail(session, entity="violations", entity_id=violation.id)[1]
    assert (approve_entry.actor, approve_entry.changes) == ("Insp. Sana", {"status": ["pending", "approved"]})
    assert approve_entry.at == APPROVED_AT


def test_luhn_check_digit():
    assert lifecycle.luhn_digit("7992739871") == 3  # the textbook example


def test_plate_correction_keeps_the_original_read(session, settings, images):
    violation = record(session, settings, images, plate="LEH5780")
    challan = approve(session, settings, violation, corrected_plate="leh-5789")
    assert (violation.plate_text, violation.corrected_plate, violation.plate) == (
        "LEH5780",
        "LEH5789",
        "LEH5789",
    )
    assert challan.plate == "LEH5789"
    correction = audit_trail(session, entity="violations", entity_id=violation.id)[1]
    assert (correction.action, correction.changes) == ("correct_plate", {"plate": ["LEH5780", "LEH5789"]})
    assert [v.id for v in crud.list_violations(session, plate="LEH5780")] == [violation.id]


def test_the_registry_class_sets_the_fine(session, settings, images):
    session.add(
        Vehicle(plate="LEH5789", vehicle_class="motorcycle", owner_name="A", owner_cnic="35202-1234567-1")
    )
    violation = record(session, settings, images, vehicle_type="car")
    challan = approve(session, settings, violation)
    assert (challan.fine_pkr, challan.fine_class) == (2000, "motorcycle")


def test_the_schedule_of_the_offence_day_applies_not_the_approval_day(session, settings, images):
    violation = record(session, settings, images, at=datetime(2025, 11, 20, 9, 0, tzinfo=UTC))
    challan = approve(session, settings, violation)
    assert (challan.fine_pkr, challan.fine_schedule) == (750, "punjab-2021")


def _refused(settings, error, expected, step):
    """Run `step` the way the CLI does; assert the error and that the database did not change."""
    with session_scope(settings.database_url) as session:
        before = snapshot(session)
    with pytest.raises(error) as caught, session_scope(settings.database_url) as session:
        step(session)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    with session_scope(settings.database_url) as session:
        assert snapshot(session) == before


def test_double_approve_is_refused_and_changes_nothing(session, settings, images):
    violation = record(session, settings, images)
    challan = approve(session, settings, violation)
    _refused(
        settings,
        TransitionError,
        f"violation {violation.id} (challan {challan.number}) is issued; "
        "only a pending violation can be approved",
        lambda s: lifecycle.approve_violation(s, violation_id=violation.id, officer="B", settings=settings),
    )
    assert len(session.exec(select(Challan)).all()) == 1


def test_unknown_id_is_refused(session, settings, images):
    record(session, settings, images)
    _refused(
        settings,
        NotFoundError,
        "no violation with id 999",
        lambda s: lifecycle.approve_violation(s, violation_id=999, officer="B", settings=settings),
    )


def test_corrupted_evidence_blocks_approval(session, settings, images):
    violation = record(session, settings, images)
    scene = next(e for e in violation.evidence if e.kind == "scene_at")
    path = settings.evidence_dir / scene.path
    path.write_bytes(path.read_bytes()[:-10])
    _refused(
        settings,
        EvidenceError,
        "has changed",
        lambda s: lifecycle.approve_violation(s, violation_id=violation.id, officer="B", settings=settings),
    )


def test_a_fine_the_schedule_lacks_blocks_approval(session, settings, images):
    # STOP_LINE runs only where a site names it; the Punjab schedule has no amount for it
    violation = record(session, settings, images, code="STOP_LINE", vehicle_type="car")
    _refused(
        settings,
        FineError,
        "no amount for STOP_LINE by class 'car'",
        lambda s: lifecycle.approve_violation(s, violation_id=violation.id, officer="B", settings=settings),
    )


def test_a_bad_corrected_plate_is_refused(session, settings, images):
    violation = record(session, settings, images)
    _refused(
        settings,
        InputError,
        "plate 'LE?5' is not",
        lambda s: lifecycle.approve_violation(
            s, violation_id=violation.id, officer="B", corrected_plate="LE?5", settings=settings
        ),
    )


def test_reject_keeps_the_record_with_its_reason(session, settings, images):
    violation = record(session, settings, images)
    lifecycle.reject_violation(session, violation_id=violation.id, officer="Insp. Sana", reason="ambulance")
    session.commit()
    assert (violation.status, violation.rejection_reason) == ("rejected", "ambulance")
    entry = audit_trail(session, entity="violations", entity_id=violation.id)[-1]
    assert (entry.action, entry.reason) == ("reject", "ambulance")
    _refused(
        settings,
        TransitionError,
        "is rejected; only a pending violation can be approved",
        lambda s: lifecycle.approve_violation(s, violation_id=violation.id, officer="B", settings=settings),
    )
    _refused(
        settings,
        InputError,
        "reason must not be empty",
        lambda s: lifecycle.reject_violation(s, violation_id=violation.id, officer="B", reason="  "),
    )


def test_an_unread_plate_is_recorded_with_no_plate_and_approved_only_once_typed(session, settings, images):
    """The pipeline could not read the plate (issue #25): the violation is recorded with no plate,
    its alternatives and how unsure the read was; approving needs the plate typed, rejecting does not."""
    violation = record(session, settings, images, plate="", confidence=0.0056)
    assert (violation.plate_text, violation.plate, violation.plate_confidence) == ("", "", 0.0056)
    assert [c["text"] for c in violation.plate_candidates] == ["LEH5780"]
    assert violation.event.plate_text == "" and violation.event.data["plate"]["text"] == ""
    _refused(
        settings,
        InputError,
        "has no plate read; give the plate with --plate",
        lambda s: lifecycle.approve_violation(s, violation_id=violation.id, officer="B", settings=settings),
    )
    challan = approve(session, settings, violation, corrected_plate="LEH5789")
    assert (challan.plate, violation.plate_text, violation.corrected_plate) == ("LEH5789", "", "LEH5789")
    other = record(session, settings, images, plate="", confidence=0.0056, track_id=2)
    lifecycle.reject_violation(session, violation_id=other.id, officer="B", reason="Plate unreadable")
    session.commit()
    assert (other.status, other.plate) == ("rejected", "")


def test_issued_then_paid(session, settings, images):
    challan = approve(session, settings, record(session, settings, images))
    payment = lifecycle.record_payment(session, number=challan.number, reference="HBL-778812")
    session.commit()
    assert (challan.violation.status, payment.amount_pkr, payment.recorded_by) == ("paid", 5000, "epay")
    for step, expected in [
        (
            lambda s: lifecycle.record_payment(s, number=challan.number, reference="HBL-1"),
            "is paid; only an issued",
        ),
        (
            lambda s: lifecycle.contest_challan(
                s, number=challan.number, reason="x", cnic=None, settings=settings, now=WITHIN_WINDOW
            ),
            "only an issued, unpaid",
        ),
    ]:
        _refused(settings, TransitionError, expected, step)


def test_contested_then_upheld_then_paid(session, settings, images):
    challan = approve(session, settings, record(session, settings, images))
    lifecycle.contest_challan(
        session,
        number=challan.number,
        reason="I was not driving",
        cnic=None,
        settings=settings,
        now=WITHIN_WINDOW,
    )
    lifecycle.uphold_challan(session, number=challan.number, officer="Insp. Raza", reason="plate clear")
    lifecycle.record_payment(session, number=challan.number, reference="EP-1")
    session.commit()
    assert challan.violation.status == "paid"
    assert (challan.contest_reason, challan.decided_by) == ("I was not driving", "Insp. Raza")
    trail = actions(session, "violations", challan.violation_id)
    assert trail == ["record", "approve", "issue", "contest", "uphold", "pay"]


def test_contested_then_cancelled_cannot_be_paid(session, settings, images):
    challan = approve(session, settings, record(session, settings, images))
    lifecycle.contest_challan(
        session, number=challan.number, reason="wrong car", cnic=None, settings=settings, now=WITHIN_WINDOW
    )
    lifecycle.cancel_challan(session, number=challan.number, officer="Insp. Raza", reason="misread")
    session.commit()
    assert challan.violation.status == "cancelled"
    assert session.get(Violation, challan.violation_id) is not None  # kept, never deleted
    _refused(
        settings,
        TransitionError,
        "is cancelled; only an issued or upheld challan can be paid",
        lambda s: lifecycle.record_payment(s, number=challan.number, reference="EP-2"),
    )


def test_uphold_needs_a_contest(session, settings, images):
    challan = approve(session, settings, record(session, settings, images))
    _refused(
        settings,
        TransitionError,
        "is issued; only a contested challan can be upheld",
        lambda s: lifecycle.uphold_challan(s, number=challan.number, officer="B", reason="r"),
    )


def test_a_payment_reference_counts_once(session, settings, images):
    first = approve(session, settings, record(session, settings, images, track_id=1))
    second = approve(session, settings, record(session, settings, images, track_id=2, plate="RIA3210"))
    lifecycle.record_payment(session, number=first.number, reference="HBL-1")
    session.commit()
    _refused(
        settings,
        InputError,
        f"payment reference HBL-1 is already recorded (challan {first.number})",
        lambda s: lifecycle.record_payment(s, number=second.number, reference="HBL-1"),
    )
    assert len(session.exec(select(Payment)).all()) == 1


def test_unknown_challan_number(session, settings, images):
    _refused(
        settings,
        NotFoundError,
        "no challan numbered PB-1",
        lambda s: lifecycle.contest_challan(s, number="PB-1", reason="x", cnic=None, settings=settings),
    )


# --- the contest policy: until when, and who -----------------------------------------------------


def contest(session, settings, challan, *, cnic=OWNER_CNIC, now=WITHIN_WINDOW, reason="I was not driving"):
    return lifecycle.contest_challan(
        session, number=challan.number, reason=reason, cnic=cnic, actor="citizen 0300-1234567",
        settings=settings, now=now,
    )  # fmt: skip


def register_owner(session, plate="LEH5789"):
    session.add(Vehicle(plate=plate, vehicle_class="car", owner_name="A", owner_cnic=OWNER_CNIC))
    session.commit()


def test_the_contest_deadline_is_contest_days_after_the_issue_date(session, settings, images):
    challan = approve(session, settings, record(session, settings, images))
    assert lifecycle.contest_deadline(challan, settings) == date(2026, 3, 23)
    longer = settings.model_copy(update={"contest_days": 30})
    assert lifecycle.contest_deadline(challan, longer) == date(2026, 4, 15)


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        (datetime(2026, 3, 23, 18, 59, tzinfo=UTC), True),  # 23:59 on 23 Mar in Lahore: the last minute
        (datetime(2026, 3, 23, 19, 0, tzinfo=UTC), False),  # already 24 Mar in Lahore
    ],
)
def test_the_window_counts_days_in_pakistan(session, settings, images, now, open_):
    register_owner(session)
    challan = approve(session, settings, record(session, settings, images))
    assert lifecycle.can_contest(challan, settings, now) is open_
    if open_:
        contest(session, settings, challan, now=now)
        assert challan.violation.status == "contested"
    else:
        _refused(
            settings,
            TransitionError,
            "The contest window closed on 23 Mar 2026",
            lambda s: contest(s, settings, challan, now=now),
        )


def test_only_an_issued_challan_can_be_contested(session, settings, images):
    register_owner(session)
    challan = approve(session, settings, record(session, settings, images))
    assert lifecycle.can_contest(challan, settings, WITHIN_WINDOW) is True
    contest(session, settings, challan)
    session.commit()
    assert lifecycle.can_contest(challan, settings, WITHIN_WINDOW) is False
    _refused(
        settings,
        TransitionError,
        "is contested; only an issued, unpaid challan can be contested",
        lambda s: contest(s, settings, challan),
    )


def test_a_contest_is_recorded_with_its_reason_and_who_sent_it(session, settings, images):
    register_owner(session)
    challan = approve(session, settings, record(session, settings, images))
    contest(session, settings, challan, cnic="3520212345671")  # dashes optional
    session.commit()
    assert (challan.contested_at, challan.contest_reason) == (WITHIN_WINDOW, "I was not driving")
    entry = audit_trail(session, entity="violations", entity_id=challan.violation_id)[-1]
    assert (entry.actor, entry.action, entry.reason, entry.at) == (
        "citizen 0300-1234567",
        "contest",
        "I was not driving",
        WITHIN_WINDOW,
    )
    assert entry.changes == {"status": ["issued", "contested"], "contest_party": "owner"}


@pytest.mark.parametrize("cnic", ["35202-7654321-1", "not a cnic", ""])
def test_a_citizen_must_give_the_registered_owners_cnic(session, settings, images, cnic):
    register_owner(session)
    challan = approve(session, settings, record(session, settings, images))
    _refused(
        settings,
        NotOwnerError,
        "The CNIC does not match the registered owner",
        lambda s: contest(s, settings, challan, cnic=cnic),
    )


def test_the_owner_check_comes_before_the_deadline(session, settings, images):
    register_owner(session)
    challan = approve(session, settings, record(session, settings, images))
    late = datetime(2026, 4, 1, tzinfo=UTC)
    _refused(
        settings,
        NotOwnerError,
        "does not match",
        lambda s: contest(s, settings, challan, cnic="35202-7654321-1", now=late),
    )


def test_the_driver_of_a_plate_the_registry_does_not_know_contests_with_a_phone(session, settings, images):
    """No registered owner to ask: the driver may contest (test_contest.py has the details), with a
    phone number to be reached on; without one the contest is refused."""
    challan = approve(session, settings, record(session, settings, images))
    _refused(
        settings,
        InputError,
        "LEH5789 is not in the vehicle registry: the driver contests with a phone number",
        lambda s: contest(s, settings, challan, cnic=OWNER_CNIC),
    )


def test_an_officer_records_a_contest_without_a_cnic_but_not_after_the_window(session, settings, images):
    challan = approve(session, settings, record(session, settings, images))  # plate not in the registry
    _refused(
        settings,
        TransitionError,
        "The contest window closed on 23 Mar 2026",
        lambda s: contest(s, settings, challan, cnic=None, now=datetime(2026, 3, 25, tzinfo=UTC)),
    )
    contest(session, settings, challan, cnic=None)
    session.commit()
    assert challan.violation.status == "contested"


def test_issue_date_is_the_day_in_pakistan(session, settings, images):
    violation = record(session, settings, images)
    late_evening_utc = datetime(2026, 3, 16, 20, 0, tzinfo=UTC)  # already the 17th in Lahore
    challan = lifecycle.approve_violation(
        session, violation_id=violation.id, officer="B", settings=settings, now=late_evening_utc
    )
    assert challan.issued_on == date(2026, 3, 17)
    assert challan.due_on - challan.issued_on == timedelta(days=settings.payment_days)


@pytest.mark.parametrize(
    ("camera", "registry", "conflict"),
    [
        ("motorcycle", "car", True),
        ("car", "motorcycle", True),
        ("truck", "motorcycle", True),
        ("motorcycle", "large-over-2000cc", True),
        ("motorcycle", "motorcycle", False),
        ("car", "large-upto-2000cc", False),  # an SUV the camera calls a car: the officer's call
        ("bus", "public-service", False),
        ("car", "rickshaw", False),  # a rickshaw may be seen as either
        ("unknown", "motorcycle", False),
    ],
)
def test_only_two_wheels_against_four_counts_as_a_registry_conflict(camera, registry, conflict):
    assert crud.class_conflict(camera, registry) is conflict


@pytest.mark.parametrize(
    ("read", "registry", "conflict"),
    [
        ("18", "10", True),
        ("18", "2010", True),  # the registry may hold four digits, the plate prints two
        ("10", "2010", False),
        ("10", "10", False),
        (None, "2010", False),  # no year read (a one-line plate): nothing to check
        ("10", None, False),  # the registry does not know the year
    ],
)
def test_a_read_year_other_than_the_registrys_is_a_conflict(read, registry, conflict):
    assert crud.year_conflict(read, registry) is conflict
