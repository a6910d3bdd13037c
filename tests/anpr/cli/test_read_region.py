"""The region column of `anpr read` on real photos (openalpr-dev, training half): the region whose
plate layouts the read fits, "?" where it fits several, never the first region in the grammar's
table that ties."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ANPR = str(Path(sys.executable).with_name("anpr"))

# photo -> (plate read there, the region the column must show)
EXPECTED = {
    "car9-4.jpg": ("ANW2529", "?"),  # a US plate; 3 letters + 4 digits is also Brazil's, Punjab's, Sindh's
    "eu1.jpg": ("M5XSX", "?"),  # a European plate that fits only the catch-all layouts, US ones too
    "eu5.jpg": ("OY09FEU", "eu"),  # a GB plate: letters, age identifier, letters
    "wts-lg-000078.jpg": ("5EZP631", "us"),  # California's digit, 3 letters, 3 digits
    "us8.jpg": ("EAZ6913", "us"),  # 3 letters + 4 digits under a state's name read on the plate
}


@pytest.mark.slow
def test_the_region_column_names_the_region_of_the_plates_layout(datasets):
    from anpr.lab.datasets import openalpr_photos

    photos = {p.path.name: p for p in openalpr_photos(datasets) if p.split == "train"}
    assert set(EXPECTED) <= set(photos)
    assert all(photos[name].printed == text for name, (text, _) in EXPECTED.items())
    result = subprocess.run(
        [ANPR, "read", *(str(photos[name].path) for name in EXPECTED)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    shown = {}  # plate -> region column
    for line in result.stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) == 6 and cells[0] != "plate":
            shown[cells[0]] = cells[3]
    assert {text: shown.get(text) for text, _ in EXPECTED.values()} == dict(EXPECTED.values())
