"""Both kinds of reader report the region of the plate's layout, not the first region that ties."""

import pytest

from anpr.ocr.lines import choose_read
from anpr.ocr.text import plate_read_from_lines


@pytest.mark.parametrize(
    ("lines", "text", "region"),
    [
        ([("ANW2529", 0.9)], "ANW2529", "?"),
        ([("M5XSX", 0.9)], "M5XSX", "?"),
        ([("OY09FEU", 0.9)], "OY09FEU", "eu"),
        ([("TEXAS", 0.8), ("ABC1234", 0.9)], "ABC1234", "us"),
        ([("LEH-07", 0.9), ("5789", 0.9)], "LEH5789", "pk"),
        ([("LEH57B9", 0.9)], "LEH5789", "?"),  # a look-alike swap: the lines it was read from are gone
    ],
)
def test_a_text_engine_read(lines, text, region):
    got = plate_read_from_lines(lines)
    assert (got.text, got.region) == (text, region)


@pytest.mark.parametrize(
    ("whole", "top", "bottom", "text", "region"),
    [
        ("ANW2529", "", "", "ANW2529", "?"),
        ("M5XSX", "", "", "M5XSX", "?"),
        ("RK755AJ", "", "", "RK755AJ", "eu"),
        ("ABC1234", "TEXAS", "ABC1234", "ABC1234", "us"),
    ],
)
def test_a_line_reader_read(whole, top, bottom, text, region):
    reads = [[(whole, 0.9)], [(top, 0.3)] if top else [], [(bottom, 0.5)] if bottom else []]
    got = choose_read(reads, "auto")
    assert (got.text, got.region) == (text, region)
