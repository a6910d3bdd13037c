"""The one check a read passes before it is recorded as a plate, on hand-built reads: texts that fit
no layout of the region, one-letter texts and reads under the floor come back unread."""

import pytest

from anpr.plates.unread import UNREAD_FLOOR, checked, fits_layout, plausible
from anpr.types import Candidate, PlateRead

SURE = max(0.9, UNREAD_FLOOR)


def read(text, confidence=SURE, *others, **fields):
    candidates = tuple(Candidate(*c) for c in ((text, confidence), *others))
    return PlateRead(text=text, confidence=confidence, candidates=candidates, **fields)


@pytest.mark.parametrize("text", ["T", "C", "0", "7"])
@pytest.mark.parametrize("region", ["auto", "pk", "us", "eu", "br"])
def test_a_one_character_read_is_never_a_plate_however_sure(text, region):
    assert not fits_layout(text, region)
    assert not plausible(read(text, 1.0), region)
    assert checked(read(text, 1.0), region).text == ""


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("AB1234", "br"),  # Brazil: ABC1234 or ABC1D23 only
        ("LEH57891", "pk"),  # a Pakistani number has at most 4 digits
        ("12", "eu"),  # no European layout is this short
        ("PJ", "pk"),  # a Pakistani plate has a number
        ("TEXASBGB3282", "auto"),  # longer than any registration: lines joined, not a plate
        ("PUNJAB", "auto"),  # the province's name printed on the plate, not its registration
    ],
)
def test_a_read_that_fits_no_layout_of_the_region_is_unread(text, region):
    assert not plausible(read(text), region)
    assert checked(read(text), region).text == ""


def test_auto_accepts_a_layout_of_any_region_and_a_region_only_its_own():
    assert plausible(read("AB1234"), "auto") and plausible(read("AB1234"), "pk")
    assert plausible(read("ABC1D23"), "br") and not plausible(read("ABC1D23"), "pk")
    assert plausible(read("LEH5789"), "pk") and plausible(read("RK34OAO"), "auto")


def test_a_plate_shaped_read_under_the_floor_is_unread_and_at_it_is_kept():
    assert UNREAD_FLOOR > 0
    assert not plausible(read("LEH5789", UNREAD_FLOOR * 0.99), "pk")
    assert plausible(read("LEH5789", UNREAD_FLOOR), "pk")


def test_an_unread_read_keeps_its_box_confidence_and_the_candidates_that_fit_a_layout():
    junk = read(
        "L0",
        UNREAD_FLOOR / 2,
        ("LE0123", UNREAD_FLOOR / 3),
        ("L", UNREAD_FLOOR / 4),
        ("TEXASBGB3282", UNREAD_FLOOR / 5),
        year="07",
        year_candidates=(Candidate("07", 1.0),),
        format="pk-sindh",
        region="pk",
        layout="two-line",
        box=(1.0, 2.0, 30.0, 12.0),
    )
    got = checked(junk, "pk")
    assert (got.text, got.year, got.year_candidates, got.format, got.region) == (
        "",
        None,
        (),
        None,
        "unknown",
    )
    assert (got.confidence, got.box, got.layout) == (junk.confidence, junk.box, "two-line")
    # "L0" is a layout's shape, only too unsure: the officer may still pick it, or LE0123
    assert [c.text for c in got.candidates] == ["L0", "LE0123"]
    assert got.to_json()["text"] == "" and got.to_json()["candidates"][1]["text"] == "LE0123"


def test_a_plausible_read_and_an_empty_one_pass_unchanged():
    good = read("LEH5789", SURE, ("LEH5788", 0.05), year="07", format="pk-punjab-legacy-2line")
    assert checked(good, "pk") is good
    empty = PlateRead(text="", confidence=0.0)
    assert checked(empty, "pk") is empty
