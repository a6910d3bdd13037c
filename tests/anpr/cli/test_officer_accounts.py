"""`--officer` on `anpr challan approve|reject|uphold|cancel` names an active officer account, not free
text (one line, exit 2, nothing written otherwise), and `anpr officer edit` names an account made
before accounts had names."""

import json

import pytest
from sqlmodel import Session

from challan import crud, lifecycle, users
from challan.db import get_engine
from tests.anpr.cli.test_challan import OFFICERS, add_officers, anpr  # noqa: F401
from tests.challan.conftest import record

NOT_AN_ACCOUNT = (
    "error: --officer 'Insp. Sana Tariq' is not an officer account: give a username from 'anpr officer list'"
)


def status(settings, violation_id: int) -> str:
    with Session(get_engine(settings.database_url)) as session:
        return crud.get_violation(session, violation_id=violation_id).status


@pytest.mark.parametrize("command", ["approve", "reject"])
def test_free_text_is_no_officer(anpr, session, settings, images, command):  # noqa: F811
    add_officers(session)
    violation = record(session, settings, images)
    reason = ("--reason", "plate unreadable") if command == "reject" else ()
    assert anpr("challan", command, str(violation.id), "--officer", "Insp. Sana Tariq", *reason) == (
        2,
        [],
        [NOT_AN_ACCOUNT],
    )
    assert status(settings, violation.id) == "pending"
    code, out, _ = anpr("challan", command, str(violation.id), "--officer", "INSP.SANA", *reason, "--json")
    assert code == 0 and json.loads(out[0])["status"] == ("issued" if command == "approve" else "rejected")


@pytest.mark.parametrize("command", ["uphold", "cancel"])
def test_a_disabled_account_decides_no_contest(anpr, session, settings, images, command):  # noqa: F811
    add_officers(session)
    violation = record(session, settings, images)
    challan = lifecycle.approve_violation(
        session, violation_id=violation.id, officer="insp.ali", settings=settings
    )
    lifecycle.contest_challan(
        session, number=challan.number, reason="not my car", cnic=None, settings=settings
    )
    users.set_active(session, username="insp.bilal", active=False, actor="t")
    session.commit()
    args = ("challan", command, challan.number, "--reason", "looked again")
    assert anpr(*args, "--officer", "insp.bilal") == (
        2,
        [],
        ["error: --officer 'insp.bilal' is a disabled account"],
    )
    assert anpr(*args, "--officer", "nobody")[2][0].startswith(
        "error: --officer 'nobody' is not an officer account"
    )
    assert status(settings, violation.id) == "contested"
    assert anpr(*args, "--officer", "insp.chand")[0] == 0


def test_the_notice_names_the_account_that_approved_it(anpr, session, settings, images):  # noqa: F811
    add_officers(session)
    violation = record(session, settings, images)
    assert anpr("challan", "approve", str(violation.id), "--officer", "insp.sana")[0] == 0
    code, out, _ = anpr("challan", "show", str(violation.id), "--json")
    challan = json.loads(out[0])["challan"]
    assert (
        challan["officer"],
        challan["officer_name"],
        challan["officer_rank"],
        challan["officer_badge"],
    ) == (
        "insp.sana",
        *OFFICERS["insp.sana"],
    )


def test_officer_edit_names_an_old_account(anpr, session):  # noqa: F811
    users.add_officer(session, username="old.hand", password="review-pass-2026", role="officer", actor="t")
    session.commit()
    assert anpr("officer", "edit", "old.hand", "--rank", "Inspector") == (
        2,
        [],
        ["error: name must be 2 to 100 characters"],
    )
    person = ("--full-name", "Nadia Aslam", "--rank", "Inspector", "--badge", "etc-1100")
    assert anpr("officer", "edit", "old.hand", *person) == (
        0,
        ["officer old.hand: Inspector Nadia Aslam, badge ETC-1100"],
        [],
    )
    assert anpr("officer", "edit", "nobody", "--rank", "Inspector") == (
        3,
        [],
        ["error: no officer named 'nobody'"],
    )
