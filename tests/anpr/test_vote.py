"""Consensus reads from hand-built per-frame reads: exact texts and confidences."""

import pytest

from anpr.types import PlateRead
from anpr.vote import settled, vote_label, vote_plate


def r(text, confidence, year=None):
    return PlateRead(text=text, confidence=confidence, year=year)


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
    assert plate.candidates[1].confidence == pytest.approx(0.8 * 1.6 / 4.3, abs=1e-6)


def test_many_weak_reads_beat_one_strong_one_and_empty_reads_do_not_vote():
    plate = vote_plate([r("AB1", 0.95), r("AB7", 0.4), r("AB7", 0.4), r("AB7", 0.4), r("", 0.0)])
    assert plate.text == "AB7"
    assert plate.confidence == pytest.approx(0.4 * 1.2 / 2.15)


def test_ties_go_to_the_more_frequent_text_then_alphabetical():
    assert vote_plate([r("XYZ", 0.6), r("ABC", 0.3), r("ABC", 0.3)]).text == "ABC"
    assert vote_plate([r("XYZ", 0.5), r("ABC", 0.5)]).text == "ABC"


def test_the_year_is_voted_among_the_winning_reads():
    plate = vote_plate(
        [r("LEH5789", 0.5, "07"), r("LEH5789", 0.6, None), r("LEH5789", 0.4, "07"), r("LEH5788", 0.9, "08")]
    )
    assert plate.year == "07"


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
