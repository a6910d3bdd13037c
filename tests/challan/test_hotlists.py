"""Hotlists on the real records (SQLite and PostgreSQL): listing, re-listing, removing and importing
plates (audited, never deleted), the built-in defaulters list, and matching that tolerates the
reader's mix-ups (0/O, 1/I, 8/B, 5/S, 2/Z) and says whether a match was exact or fuzzy."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from anpr.errors import InputError
from anpr.types import Candidate, PlateRead
from challan import hotlists, lifecycle
from challan.errors import NotFoundError
from challan.hotlists import CANDIDATE_FLOOR, Hit, hits, lookalikes
from challan.models import AuditEntry, HotlistEntry
from tests.challan.conftest import OFFENCE_AT, record

DAY = date(2026, 11, 20)


def read(text: str, confidence: float = 0.9, *candidates: tuple[str, float]) -> PlateRead:
    return PlateRead(
        text=text,
        confidence=confidence,
        candidates=(Candidate(text, confidence),) * bool(text)
        + tuple(Candidate(t, c) for t, c in candidates),
    )


def listed(session, *entries: tuple[str, str, str]) -> None:
    for plate, name, reason in entries:
        hotlists.add_entry(session, plate=plate, list_name=name, reason=reason, actor="test")
    session.commit()


def test_the_lookalike_pairs_are_the_five_the_issue_names():
    assert set(map(frozenset, hotlists.LOOKALIKE.items())) == set(
        map(frozenset, [("0", "O"), ("1", "I"), ("8", "B"), ("5", "S"), ("2", "Z")])
    )
    assert lookalikes("LEB4763") == {"LEB4763", "LE84763"}
    assert lookalikes("AS20") == {"AS20", "A520", "ASZ0", "AS2O", "A5Z0", "A52O", "ASZO", "A5ZO"}
    # at most three characters swapped: a fourth is a different plate, not a misread
    assert len(lookalikes("BSZI")) == 15 and "8521" not in lookalikes("BSZI")


@pytest.mark.parametrize(
    ("listed_plate", "seen", "expected"),
    [
        ("LEB5789", read("LEB5789"), "exact"),
        ("LEB5789", read("LE85789"), "fuzzy"),  # 8 read for B
        ("AB1020", read("ABI02O"), "fuzzy"),  # 1 -> I and 0 -> O at once
        ("LEB5789", read("LEH5789", 0.6, ("LE85789", 0.2)), "fuzzy"),  # a candidate's look-alike
        ("LEB5789", read("LEH5789", 0.6, ("LEB5789", CANDIDATE_FLOOR)), "fuzzy"),  # a candidate at the floor
        ("LEB5789", read("", 0.1, ("LEB5789", 0.3)), "fuzzy"),  # unread, a candidate above the floor
        ("LEB5789", read("LEH5789", 0.6, ("LEB5789", CANDIDATE_FLOOR / 2)), None),  # under the floor
        ("AWO138", read("AWQ138"), None),  # Q for O is no pair of the five
        ("LEB5789", read("LEB578"), None),  # a character short
        ("LEB5789", None, None),
    ],
)
def test_a_read_matches_a_listed_plate_exactly_or_by_lookalikes(session, listed_plate, seen, expected):
    listed(session, (listed_plate, "stolen", "stolen 2026-11-19, FIR 123/26"))

    found = hits(session, read=seen, day=DAY)

    assert found == (
        [Hit(listed_plate, "stolen", "stolen 2026-11-19, FIR 123/26", expected)] if expected else []
    )


def test_every_list_a_plate_is_on_matches_exact_first(session):
    listed(session, ("LEB5789", "wanted", "robbery, Gulberg"), ("LE85789", "stolen", "stolen in Multan"))

    found = hits(session, read=read("LE85789"), day=DAY)

    assert [(h.plate, h.list_name, h.match) for h in found] == [
        ("LE85789", "stolen", "exact"),
        ("LEB5789", "wanted", "fuzzy"),
    ]


def test_removed_plates_match_nothing_and_stay_on_record(session):
    listed(session, ("LEB5789", "stolen", "stolen"), ("LEB5789", "wanted", "robbery"))

    removed = hotlists.remove_entry(session, plate="leb-5789", list_name="stolen", actor="test")
    session.commit()

    assert [(e.plate, e.list_name, e.removed_by) for e in removed] == [("LEB5789", "stolen", "test")]
    assert [h.list_name for h in hits(session, read=read("LEB5789"), day=DAY)] == ["wanted"]
    assert len(session.exec(select(HotlistEntry)).all()) == 2
    with pytest.raises(NotFoundError, match="plate LEB5789 is not on list stolen"):
        hotlists.remove_entry(session, plate="LEB5789", list_name="stolen", actor="test")
    hotlists.remove_entry(session, plate="LEB5789", actor="test")
    session.commit()
    assert hits(session, read=read("LEB5789"), day=DAY) == []
    # listed again after removal: a new entry
    assert (
        hotlists.add_entry(session, plate="LEB5789", list_name="stolen", reason="again", actor="t") == "added"
    )


def test_listing_again_updates_the_reason_and_everything_is_audited(session):
    def add(name: str, reason: str, actor: str) -> str:
        return hotlists.add_entry(session, plate="LEB5789", list_name=name, reason=reason, actor=actor)

    assert [
        add("Stolen", " stolen ", "a"),
        add("stolen", "stolen", "a"),
        add("stolen", "recovered?", "b"),
    ] == [
        "added",
        "unchanged",
        "updated",
    ]
    hotlists.remove_entry(session, plate="LEB5789", actor="c")
    session.commit()
    trail = session.exec(
        select(AuditEntry).where(AuditEntry.entity == "hotlist").order_by(AuditEntry.id)  # type: ignore[arg-type]
    ).all()
    assert [(e.actor, e.action, e.changes) for e in trail] == [
        ("a", "list", {"plate": "LEB5789", "list": "stolen", "reason": "stolen"}),
        ("b", "update", {"reason": ["stolen", "recovered?"]}),
        ("c", "unlist", {"plate": "LEB5789", "list": "stolen"}),
    ]


def test_hotlist_entries_are_never_deleted(session):
    listed(session, ("LEB5789", "stolen", "stolen"))
    with pytest.raises(sa.exc.DatabaseError, match="refused"):
        session.exec(sa.text("DELETE FROM hotlist"))  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("plate", "name", "reason", "error"),
    [
        ("LEB5789", "defaulters", "x", "list 'defaulters' is built in"),
        ("LEB5789", "cloned_plate", "x", "list 'cloned_plate' is built in"),
        ("LEB5789", "stolen cars", "x", "list 'stolen cars' is not 2-32 lower-case letters"),
        ("LEB5789", "stolen", "  ", "reason is empty"),
        ("L", "stolen", "x", "plate 'L' is not 2-12 letters and digits"),
    ],
)
def test_bad_entries_are_refused_in_one_line(session, plate, name, reason, error):
    with pytest.raises(InputError, match=error):
        hotlists.add_entry(session, plate=plate, list_name=name, reason=reason, actor="t")


def test_an_import_checks_every_line_first_and_names_the_bad_one(session, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text('plate,list,reason\nLEB-5789,stolen,stolen 19 Nov\nAWO138,wanted,"robbery, Saddar"\n\n')
    bad = tmp_path / "bad.csv"
    bad.write_text("LEB5789,stolen,stolen\nQDM5026,stolen\n")
    repeat = tmp_path / "repeat.csv"
    repeat.write_text("LEB5789,stolen,stolen\nleb5789,Stolen,again\n")

    with pytest.raises(
        InputError, match=rf"^{bad} line 2: expected 3 fields \(plate,list,reason\), found 2$"
    ):
        hotlists.import_csv(session, path=bad, actor="t")
    with pytest.raises(InputError, match=rf"^{repeat} line 2: LEB5789 on stolen repeats line 1$"):
        hotlists.import_csv(session, path=repeat, actor="t")
    assert hotlists.list_entries(session) == []  # nothing written

    result = hotlists.import_csv(session, path=good, actor="t")
    assert result.to_json() == {"added": 2, "updated": 0, "unchanged": 0}
    assert [(e.plate, e.list_name, e.reason) for e in hotlists.list_entries(session)] == [
        ("LEB5789", "stolen", "stolen 19 Nov"),
        ("AWO138", "wanted", "robbery, Saddar"),
    ]


def test_unpaid_overdue_challans_are_the_defaulters_list(session, settings, images):
    # issued on the offence day, due 14 days later (ANPR_PAYMENT_DAYS)
    owed = record(session, settings, images, plate="LEB5789", track_id=1)
    challan = lifecycle.approve_violation(
        session, violation_id=owed.id, officer="insp.sana", settings=settings, now=OFFENCE_AT
    )
    paid = record(session, settings, images, plate="AWO138", track_id=2)
    paid_challan = lifecycle.approve_violation(
        session, violation_id=paid.id, officer="insp.sana", settings=settings, now=OFFENCE_AT
    )
    lifecycle.record_payment(session, number=paid_challan.number, reference="BANK-1", actor="bank")
    session.commit()
    due = challan.due_on

    assert hits(session, read=read("LEB5789"), day=due) == []  # due today: not overdue yet
    assert hits(session, read=read("LE85789"), day=due + timedelta(days=1)) == [
        Hit("LEB5789", "defaulters", f"unpaid challan {challan.number} due {due.isoformat()}", "fuzzy")
    ]
    assert hits(session, read=read("AWO138"), day=due + timedelta(days=30)) == []  # paid
