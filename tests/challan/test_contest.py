"""Who may contest a challan (challan.lifecycle.contestant): the registered owner of a plate the
registry knows, by CNIC; the driver of a plate it does not know, by CNIC and phone number. Who
contested, with the CNIC and contact they gave, is recorded on the contest."""

from datetime import UTC, datetime, timedelta

import pytest

from anpr.errors import InputError
from challan import lifecycle
from challan.audit import audit_trail
from challan.db import session_scope
from challan.errors import NotOwnerError
from challan.models import Vehicle
from tests.challan.conftest import record, snapshot

APPROVED_AT = datetime(2026, 3, 16, 5, 0, tzinfo=UTC)
WITHIN_WINDOW = APPROVED_AT + timedelta(days=2)
OWNER_CNIC = "35202-1234567-1"
DRIVER_CNIC = "61101-2345678-9"


def issued(session, settings, images, *, plate="KHI7777"):
    violation = record(session, settings, images, plate=plate)
    challan = lifecycle.approve_violation(
        session, violation_id=violation.id, officer="Insp. Sana", settings=settings, now=APPROVED_AT
    )
    session.commit()
    return challan


def contest(session, settings, challan, *, cnic, contact):
    return lifecycle.contest_challan(
        session,
        number=challan.number,
        reason="I was driving, but the signal was green.",
        cnic=cnic,
        contact=contact,
        actor=f"citizen {contact}",
        settings=settings,
        now=WITHIN_WINDOW,
    )


def test_the_driver_of_an_unregistered_plate_contests_and_is_recorded(session, settings, images):
    challan = issued(session, settings, images)
    contest(session, settings, challan, cnic="6110123456789", contact=" +92 301 2345678 ")
    session.commit()
    assert challan.violation.status == "contested"
    assert (challan.contest_party, challan.contest_cnic, challan.contest_contact) == (
        "driver",
        DRIVER_CNIC,
        "+92 301 2345678",
    )
    entry = audit_trail(session, entity="violations", entity_id=challan.violation_id)[-1]
    assert (entry.action, entry.changes) == (
        "contest",
        {"status": ["issued", "contested"], "contest_party": "driver"},
    )


@pytest.mark.parametrize(
    ("cnic", "contact", "refusal"),
    [
        (
            DRIVER_CNIC,
            "driver@example.pk",
            "KHI7777 is not in the vehicle registry: the driver contests with a phone",
        ),
        (DRIVER_CNIC, "", "the driver contests with a phone number"),
        ("6110-123", "0301 2345678", "Give the driver's CNIC as 12345-1234567-1"),
    ],
)
def test_a_driver_gives_a_cnic_and_a_phone(session, settings, images, cnic, contact, refusal):
    challan = issued(session, settings, images)
    with session_scope(settings.database_url) as s:
        before = snapshot(s)
    with pytest.raises(InputError, match=refusal), session_scope(settings.database_url) as s:
        contest(s, settings, challan, cnic=cnic, contact=contact)
    with session_scope(settings.database_url) as s:
        assert snapshot(s) == before


def test_a_registered_plate_is_contested_by_its_owner_only(session, settings, images):
    session.add(Vehicle(plate="LEH5789", vehicle_class="car", owner_name="A", owner_cnic=OWNER_CNIC))
    session.commit()
    challan = issued(session, settings, images, plate="LEH5789")
    with pytest.raises(NotOwnerError, match="The CNIC does not match the registered owner"):
        contest(session, settings, challan, cnic=DRIVER_CNIC, contact="0301 2345678")
    session.rollback()
    contest(session, settings, challan, cnic="3520212345671", contact="owner@example.pk")
    session.commit()
    assert (challan.contest_party, challan.contest_cnic, challan.contest_contact) == (
        "owner",
        OWNER_CNIC,
        "owner@example.pk",
    )
