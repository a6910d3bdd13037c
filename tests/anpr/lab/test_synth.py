"""The synthetic plate generator: labels that match what is drawn, geometry the trainer can rely on,
the same plates for the same seed."""

from __future__ import annotations

import re
from collections import Counter

import cv2
import numpy as np
import pytest

from anpr.lab.synth import STYLES, SyntheticPlate, fonts, generate, render_plate

ALNUM = re.compile(r"[A-Z0-9]+")
TWO_LINE = {"pk-punjab-legacy-2line", "pk-motorcycle"}


@pytest.fixture(scope="module")
def mixed() -> list[SyntheticPlate]:
    return list(generate(80, seed=11))


def _series(text: str) -> str:
    return re.match(r"[A-Z]*", text).group(0)


def test_same_seed_same_plates_and_other_seed_differs():
    a, b, c = (list(generate(6, seed=s)) for s in (3, 3, 4))
    for x, y in zip(a, b, strict=True):
        assert (x.text, x.year, x.style, x.lines, x.line_boxes) == (
            y.text,
            y.year,
            y.style,
            y.lines,
            y.line_boxes,
        )
        assert np.array_equal(x.image, y.image)
    assert [p.text for p in a] != [p.text for p in c]


def test_labels_are_alphanumeric_and_consistent(mixed):
    for plate in mixed:
        assert ALNUM.fullmatch(plate.text), plate.text
        assert all(ALNUM.fullmatch(line) for line in plate.lines), plate.lines
        if plate.year is None:
            assert "".join(plate.lines) == plate.text
        else:
            assert plate.region == "pk" and re.fullmatch(r"\d\d", plate.year)
            series = _series(plate.text)
            assert "".join(plate.lines) == series + plate.year + plate.text[len(series) :]
            assert plate.lines[0].startswith(series + plate.year)


def test_pakistani_text_is_series_letters_then_number_digits(mixed):
    for plate in (p for p in mixed if p.region == "pk"):
        assert re.fullmatch(r"[A-Z]{1,3}\d{1,4}", plate.text), (plate.style, plate.text)


@pytest.mark.parametrize("style", STYLES)
def test_every_style_renders_a_bgr_crop_with_boxes_inside(style):
    rng = np.random.default_rng(5)
    for degrade in (True, False, True):
        plate = render_plate(rng, style, degrade)
        h, w = plate.image.shape[:2]
        assert plate.image.dtype == np.uint8 and plate.image.shape[2] == 3
        assert plate.style == style and plate.region == style.split("-")[0]
        low, high = (1.0, 2.6) if style == "pk-motorcycle" else (1.25, 5.8)
        assert low <= w / h <= high, (style, w, h)
        assert len(plate.line_boxes) == len(plate.lines) >= 1
        for x1, y1, x2, y2 in plate.line_boxes:
            assert 0 <= x1 < x2 <= w - 1 and 0 <= y1 < y2 <= h - 1
            assert (x2 - x1) >= 0.2 * w, "a line spans a good part of the plate"
        tops = [box[1] for box in plate.line_boxes]
        centres = [(box[1] + box[3]) / 2 for box in plate.line_boxes]
        assert tops == sorted(tops) and centres == sorted(set(centres))


def test_unknown_style_and_region_are_refused():
    with pytest.raises(ValueError, match="unknown plate style"):
        render_plate(np.random.default_rng(0), "pk-atlantis")
    with pytest.raises(ValueError, match="regions must be among"):
        next(generate(1, regions=["xx"]))


def test_two_line_styles_have_two_lines_one_above_the_other():
    rng = np.random.default_rng(2)
    for style in sorted(TWO_LINE):
        for _ in range(4):
            plate = render_plate(rng, style)
            assert len(plate.lines) == 2, plate.lines
            (_, top_y1, _, top_y2), (_, bottom_y1, _, bottom_y2) = plate.line_boxes
            # each line's middle lies outside the other's box (axis-aligned boxes of a tilted
            # plate overlap a little, so the boxes themselves may touch)
            assert (bottom_y1 + bottom_y2) / 2 > top_y2 and (top_y1 + top_y2) / 2 < bottom_y1


def test_number_line_holds_as_many_glyphs_as_its_label():
    """On clean two-line Punjab plates, the dark blobs of letter height in the bottom line box are the
    digits of lines[1]: the label matches what is drawn."""
    rng = np.random.default_rng(8)
    for _ in range(6):
        plate = render_plate(rng, "pk-punjab-legacy-2line", degrade=False)
        x1, y1, x2, y2 = plate.line_boxes[1]
        grey = cv2.cvtColor(plate.image[y1 : y2 + 1, x1 : x2 + 1], cv2.COLOR_BGR2GRAY)
        count, _, stats, _ = cv2.connectedComponentsWithStats((grey < 110).astype(np.uint8))
        tall = [s for s in stats[1:count] if s[cv2.CC_STAT_HEIGHT] > 0.6 * (y2 - y1)]
        assert len(tall) == len(plate.lines[1]), (plate.lines, len(tall))


def test_default_mix_is_mostly_pakistani_with_two_line_plates():
    styles = Counter(p.style for p in generate(300, seed=1, degrade=False))
    pk = sum(n for s, n in styles.items() if s.startswith("pk-"))
    assert 0.5 <= pk / 300 <= 0.7
    assert sum(styles[s] for s in TWO_LINE) / 300 >= 0.15
    assert set(styles) == set(STYLES)


def test_regions_limit_the_mix():
    assert {p.region for p in generate(20, seed=0, regions=["br", "eu"], degrade=False)} == {"br", "eu"}


def test_missing_fonts_error_names_the_packages(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "FONT_DIRS", (tmp_path,))
    fonts._font_index.cache_clear()
    fonts.faces.cache_clear()
    try:
        with pytest.raises(fonts.MissingFontsError, match="fonts-dejavu-core.*fonts-noto-core"):
            fonts.faces("plate")
    finally:
        monkeypatch.undo()
        fonts._font_index.cache_clear()
        fonts.faces.cache_clear()
    assert fonts.faces("plate")


def test_a_state_emblem_fills_the_gap_between_character_groups_and_stays_there():
    """US plates print a graphic between their groups (Missouri's outline, Alaska's flag, Florida's
    orange); the synthetic one covers a good part of its box and paints nothing outside it."""
    from anpr.lab.synth.paint import Canvas, state_emblem

    kinds = Counter()
    for seed in range(12):
        rng = np.random.default_rng(seed)
        canvas = Canvas(200, 100, (240.0, 240.0, 240.0), np.random.default_rng(0), grain=0.0)
        state_emblem(canvas, rng, 100, 50, 30, 40)
        changed = np.abs(canvas.image - 240.0).max(axis=2) > 30
        rows, cols = np.nonzero(changed)
        assert changed[35:66, 85:116].mean() > 0.25  # a solid mark, not a dot
        assert rows.min() >= 50 - 20 - 3 and rows.max() <= 50 + 20 + 3
        assert cols.min() >= 100 - 15 - 3 and cols.max() <= 100 + 15 + 3
        kinds[int(changed.sum()) // 100] += 1
    assert len(kinds) > 2  # the shapes differ
