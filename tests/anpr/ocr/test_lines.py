"""How anpr.ocr.lines chooses a read: a crop too wide for a two-line plate is read as one line only;
look-alike swaps a format asks for."""

import numpy as np
import pytest

from anpr.ocr.lines import MAX_TWO_LINE_ASPECT, choose_read, could_be_two_line


@pytest.mark.parametrize(
    ("height", "width", "expected"),
    [
        (100, 200, True),  # Punjab two-line car plate, about 2:1
        (100, 120, True),  # motorcycle plate
        (30, 130, False),  # EU one-line, 4.3:1
        (31, 96, False),  # Brazilian one-line, 3.1:1
        (0, 10, True),  # degenerate: let the reader decide (it returns nothing)
    ],
)
def test_two_line_hypothesis_only_for_plates_that_could_be_two_line(height, width, expected):
    assert could_be_two_line(np.zeros((height, width, 3), np.uint8)) is expected


def test_threshold_sits_between_the_measured_layouts():
    assert 2.01 < MAX_TWO_LINE_ASPECT < 3.08


# A format-asked swap between look-alike characters: the model's own probability decides, except
# for 0/O, which many plate fonts draw with one glyph (Slovak BA-302OZ); there the format decides.
@pytest.mark.parametrize(
    ("read", "expected"),
    [("AB1230D", "AB123OD"), ("AB123C8", "AB123C8")],
)
def test_only_same_glyph_swaps_overrule_a_sure_model(read, expected):
    sure = lambda line, text: 1.0 if text == read else 1e-6  # noqa: E731
    got = choose_read([[(read, 0.9)], [], []], "eu", sure)
    assert got.text == expected
    assert {c.text for c in got.candidates} >= {read}


# A province or state name read on the plate names its region whichever way the lines are read: the
# one-line read (which cannot see the word) is judged with it too. TD-483-C under SINDH keeps its
# Pakistani reading (the suffix C is no registration); ABC1234 under TEXAS is a US plate, where
# alone it would fit the stronger Brazilian and Punjab-universal shapes.
@pytest.mark.parametrize(
    ("whole", "top", "bottom", "text", "region"),
    [
        ("TD483C", "TD483C", "SINDH", "TD483", "pk"),
        ("ABC1234", "TEXAS", "ABC1234", "ABC1234", "us"),
    ],
)
def test_a_province_word_names_the_region_of_every_reading(whole, top, bottom, text, region):
    got = choose_read([[(whole, 0.8)], [(top, 0.3)], [(bottom, 0.5)]], "auto")
    assert (got.text, got.region) == (text, region)


def test_lines_read_together_are_no_alternative_but_a_lone_read_stays():
    """A US plate's state name and number read as one line (TEXASBGB3282) is longer than any
    registration anywhere: officers are not offered it. A read that is only that long is still the read."""
    from anpr.plates.formats import LONGEST_ALTERNATIVE

    got = choose_read([[("BGB3282", 0.9), ("TEXASBGB3282", 0.05), ("MH12AB1234", 0.04)], [], []], "auto")
    assert got.text == "BGB3282"
    assert all(len(c.text) <= LONGEST_ALTERNATIVE for c in got.candidates)
    assert "MH12AB1234" in {c.text for c in got.candidates}  # an Indian plate is 10 characters long
    alone = choose_read([[("TEXASBGB3282", 0.9)], [], []], "us")
    assert alone.text == "TEXASBGB3282" and alone.candidates[0].text == "TEXASBGB3282"


def test_the_years_read_with_a_two_line_plate_come_with_their_shares():
    """The officer sees the year the reader was unsure of: both years of LED-10 / 6129 whose 0 may
    be an 8, the chosen one first."""
    got = choose_read([[], [("LED10", 0.55), ("LED18", 0.45)], [("6129", 0.95)]], "pk")
    assert (got.text, got.year) == ("LED6129", "10")
    assert [c.text for c in got.year_candidates] == ["10", "18"]
    assert got.year_candidates[0].confidence > got.year_candidates[1].confidence > 0.3
    assert choose_read([[("ABC1234", 0.9)], [], []], "us").year_candidates == ()
    # a Sindh AHE-767 read without a year lists none, though a reading with a junk year was weighed
    sindh = choose_read([[("AHE767", 0.95)], [("09", 0.05)], [("AHE767", 0.95)]], "pk")
    assert (sindh.text, sindh.year, sindh.year_candidates) == ("AHE767", None, ())


def test_a_same_glyph_swap_decides_only_where_its_layout_is_decisively_likelier():
    """Region not given, a Pakistani XHN-9020 (ICT, Punjab universal shapes) read sure of its 0 is not
    halved by the Brazilian Mercosur shape XHN9O20, barely likelier a priori; the Slovak AB123OD,
    far likelier than the catch-all shape of AB1230D, still is (test above)."""
    from anpr.ocr.lines import SAME_GLYPH_MARGIN
    from anpr.plates.formats import format_prior

    assert format_prior("XHN9O20") < SAME_GLYPH_MARGIN * format_prior("XHN9020")
    assert format_prior("AB123OD", "eu") >= SAME_GLYPH_MARGIN * format_prior("AB1230D", "eu")
    sure = lambda line, text: 1.0 if text == "XHN9020" else 1e-6  # noqa: E731
    got = choose_read([[("XHN9020", 0.9)], [], []], "auto", sure)
    assert got.text == "XHN9020" and got.confidence > 0.85


def test_a_line_read_again_as_the_whole_crop_takes_no_probability_from_its_plate():
    """The whole-crop read of a Punjab two-line plate is its top line alone: it no longer halves the
    confidence of a two-line read the models are sure of; a one-line Sindh plate whose two-line
    reading (a small year on top) is unsure keeps its one-line read."""
    punjab = choose_read([[("LEC13", 0.49), ("SEG13", 0.05)], [("LEC13", 0.999)], [("390", 0.999)]], "pk")
    assert (punjab.text, punjab.year) == ("LEC390", "13") and punjab.confidence > 0.85
    sindh = choose_read([[("ASL277", 1.0)], [("09", 0.024)], [("ASL277", 0.998)]], "pk")
    assert (sindh.text, sindh.year) == ("ASL277", None) and sindh.confidence > 0.9
