"""Consensus reads from hand-built per-frame reads: exact texts and confidences."""

import pytest

from anpr.plates.unread import UNREAD_FLOOR
from anpr.types import Candidate, PlateRead
from anpr.vote import settled, vote_label, vote_plate


def r(text, confidence, year=None):
    return PlateRead(text=text, confidence=confidence, year=year)


def framed(text, confidence, *others):
    """A frame's read with the reader's own candidates (text first, then the others)."""
    listed = ((text, confidence), *others)
    return PlateRead(text=text, confidence=confidence, candidates=tuple(Candidate(*c) for c in listed))


def test_no_text_on_any_frame_is_no_read():
    assert vote_plate([]) is None
    assert vote_plate([r("", 0.0), r("", 0.0)]) is None


def test_one_read_keeps_its_confidence():
    plate = vote_plate([r("LEH5789", 0.4)])
    assert plate.text == "LEH5789" and plate.confidence == pytest.approx(0.4)
    assert [c.text for c in plate.candidates] == ["LEH5789"]


def test_the_weighted_majority_wins_and_a_split_vote_lowers_confidence():
    plate = vote_plate(
        [r("ABC123", 0.9), r("ABC123", 0.9), r("ABC123", 0.9), r("ABC128", 0.8), r("ABC128", 0.8)]
    )
    assert plate.text == "ABC123"
    assert plate.confidence == pytest.approx(0.9 * 2.7 / 4.3)
    assert [c.text for c in plate.candidates] == ["ABC123", "ABC128"]
    # the winner's confidence times ABC128's share of the probability mass relative to ABC123's
    assert plate.candidates[1].confidence == pytest.approx(0.9 * 2.7 / 4.3 * 1.6 / 2.7, abs=1e-6)


def test_many_weak_reads_beat_one_strong_one_and_empty_reads_do_not_vote():
    plate = vote_plate([r("AB1", 0.95), r("AB7", 0.4), r("AB7", 0.4), r("AB7", 0.4), r("", 0.0)])
    assert plate.text == "AB7"
    assert plate.confidence == pytest.approx(0.4 * 1.2 / 2.15)


def test_a_runner_up_on_every_frame_is_offered_and_ranked_by_its_probability():
    reads = [
        framed("AWQ138", 0.8, ("AWO138", 0.15), ("AWD138", 0.05)),
        framed("AWQ138", 0.7, ("AWO138", 0.2)),
        framed("AWD138", 0.3, ("AWQ138", 0.25), ("AWO138", 0.1)),
        r("AWQ138", 0.9),  # no candidates of its own
    ]
    plate = vote_plate(reads)
    assert plate.text == "AWQ138"
    assert plate.confidence == pytest.approx(0.8 * 2.4 / 2.7)  # the vote alone decides, as before
    # AWO138 won no frame but holds more probability (0.45) than AWD138, which won one (0.35)
    assert [c.text for c in plate.candidates] == ["AWQ138", "AWO138", "AWD138"]
    assert plate.candidates[1].confidence == pytest.approx(plate.confidence * 0.45 / 2.65, abs=1e-6)
    assert plate.candidates[2].confidence == pytest.approx(plate.confidence * 0.35 / 2.65, abs=1e-6)


def test_an_alternative_never_looks_surer_than_the_winner():
    plate = vote_plate([framed("XY1", 0.5, ("XY7", 0.45)), framed("XY1", 0.5, ("XY7", 0.45)), r("XY7", 0.9)])
    assert plate.text == "XY1"
    assert [c.text for c in plate.candidates] == ["XY1", "XY7"]
    assert plate.candidates[1].confidence == plate.candidates[0].confidence


def test_alternatives_stop_at_five():
    many = tuple((f"AB{n}", 0.01 * n) for n in range(1, 10))
    plate = vote_plate([framed("AB0", 0.9, *many)])
    assert [c.text for c in plate.candidates] == ["AB0", "AB9", "AB8", "AB7", "AB6"]


def test_ties_go_to_the_more_frequent_text_then_alphabetical():
    assert vote_plate([r("XYZ", 0.6), r("ABC", 0.3), r("ABC", 0.3)]).text == "ABC"
    assert vote_plate([r("XYZ", 0.5), r("ABC", 0.5)]).text == "ABC"


def test_the_year_is_voted_among_the_winning_reads():
    plate = vote_plate(
        [r("LEH5789", 0.5, "07"), r("LEH5789", 0.6, None), r("LEH5789", 0.4, "07"), r("LEH5788", 0.9, "08")]
    )
    assert plate.year == "07"
    assert plate.confidence == pytest.approx(0.5 * 1.5 / 2.4)  # the year unanimous: text share alone


def test_a_split_year_lowers_the_confidence_as_a_split_text_does():
    """Each frame's confidence is that of text and year together, and the challan prints the year:
    frames agreeing on the registration but not on its year do not make a certain read."""
    split = vote_plate([r("LED6129", 0.9, "10"), r("LED6129", 0.9, "10"), r("LED6129", 0.9, "18")])
    assert (split.text, split.year) == ("LED6129", "10")
    assert split.confidence == pytest.approx(0.9 * 2 / 3)
    assert split.candidates[0].confidence == pytest.approx(split.confidence)
    weighted = vote_plate([r("LED6129", 0.9, "18"), r("LED6129", 0.3, "10"), r("LED6129", 0.3, "10")])
    assert weighted.year == "18"  # years are weighted by confidence, as texts are
    agreed = vote_plate([r("LED6129", 0.9, "10"), r("LED6129", 0.9, "10"), r("LED6129", 0.9, None)])
    assert agreed.confidence == pytest.approx(0.9)  # a frame without the year does not split it


def test_the_officer_sees_every_year_the_frames_read_with_the_voted_one_first():
    """Each frame's own year candidates pool by its confidence: a year no frame chose (the bolt
    through LED-10's 0 reads as 18 too) is still shown, with its share."""
    from anpr.types import Candidate

    frames = [
        PlateRead("LED6129", 0.8, year="10", year_candidates=(Candidate("10", 0.6), Candidate("18", 0.4))),
        PlateRead("LED6129", 0.4, year="10", year_candidates=(Candidate("10", 0.9), Candidate("19", 0.1))),
        PlateRead("LED6120", 0.9, year="18"),  # another registration's year is not this plate's
    ]
    plate = vote_plate(frames)
    assert (plate.text, plate.year) == ("LED6129", "10")
    years = {c.text: c.confidence for c in plate.year_candidates}
    assert plate.year_candidates[0].text == "10" and set(years) == {"10", "18", "19"}
    assert years["18"] == pytest.approx(0.8 * 0.4 / 1.2, abs=1e-6)
    assert sum(years.values()) == pytest.approx(1.0, abs=1e-5)
    assert vote_plate([r("LEH5789", 0.5, "07"), r("LEH5789", 0.6)]).year_candidates == (Candidate("07", 1.0),)
    assert vote_plate([r("ABC123", 0.9)]).year_candidates == ()
    no_year = vote_plate([r("AHE767", 0.9), r("AHE767", 0.8), r("AHE767", 0.3, "09")])
    assert (no_year.year, no_year.year_candidates) == ("09", (Candidate("09", 1.0),))  # as voted today


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["A", "A"], False),  # two agree: not yet
        (["A", "A", "A"], True),
        (["A", "A", "A", "B", "", ""], True),  # 3 of 4 texted reads
        (["A", "A", "A", "B", "B"], False),  # 60 % is not settled
        (["", "", ""], False),
    ],
)
def test_settled(texts, expected):
    assert settled([r(t, 0.5 if t else 0.0) for t in texts]) is expected


def test_vote_label_is_weighted_and_ignores_missing():
    assert vote_label(["car", "truck", "car", None]) == "car"
    assert vote_label(["car", "truck"], [0.2, 0.7]) == "truck"
    assert vote_label([None, ""]) is None


def test_a_track_of_junk_reads_votes_an_unread_plate():
    """A car at the frame's edge with an unreadable plate: each frame read a letter or two at next to
    no confidence. The vote records no registration, only how unsure it was and what may fit."""
    junk = [framed("T", 0.0056, ("LE0123", 0.002)), r("T", 0.004), r("0", 0.01), framed("L0", 0.003)]
    plate = vote_plate(junk)
    assert plate is not None and plate.text == "" and plate.year is None
    assert 0 < plate.confidence < UNREAD_FLOOR
    assert [c.text for c in plate.candidates] == ["L0", "LE0123"]  # "T" and "0" fit no layout


def test_junk_frames_do_not_vote_beside_plausible_ones():
    plate = vote_plate([r("LEH5789", 0.6), r("T", 0.9), r("T", 0.9), r("LEH5789", UNREAD_FLOOR / 2)])
    assert plate.text == "LEH5789" and plate.confidence == pytest.approx(0.6)
    assert [c.text for c in plate.candidates] == ["LEH5789"]


def test_the_vote_checks_the_reads_against_the_sites_region():
    reads = [r("AB1234", 0.9), r("AB1234", 0.8)]
    assert vote_plate(reads).text == "AB1234"  # auto: a Pakistani shape
    assert vote_plate(reads, region="pk").text == "AB1234"
    unread = vote_plate(reads, region="br")  # no Brazilian plate reads that way
    assert unread.text == "" and unread.confidence == pytest.approx(0.85)
