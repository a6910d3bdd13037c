"""anpr.plates.plate_region: the region a plate's layout belongs to, "?" where it fits several."""

import pytest

from anpr.plates import plate_region


@pytest.mark.parametrize(
    ("lines", "region", "expected"),
    [
        ("ANW2529", "auto", "?"),  # Punjab universal, Sindh, Brazil old, 3 letters + 4 digits in the US
        ("M5XSX", "auto", "?"),  # only the catch-all layouts fit, the US and the European one alike
        ("SGTE5", "auto", "?"),  # Pakistan's catch-all is no better evidence
        ("OY09FEU", "auto", "eu"),  # GB: letters, age identifier, letters
        ("5EZP631", "auto", "us"),  # California
        ("AB123CD", "auto", "eu"),
        (["LEH-07", "5789"], "auto", "pk"),  # a Punjab two-line plate with its year
        ("SZA679", "auto", "pk"),  # 3 letters + 3 digits: Pakistani layouts alone (US states: catch-all)
        (["TEXAS", "ABC1234"], "auto", "us"),  # a state's name read on the plate decides
        (["ABC1234", "PUNJAB"], "auto", "pk"),
        ("ANW2529", "us", "us"),  # a region told is the region
        ("ANW2529", "br", "br"),
        ("ZZZZZZZZZZZ", "auto", "unknown"),
    ],
)
def test_plate_region(lines, region, expected):
    assert plate_region(lines, region) == expected
