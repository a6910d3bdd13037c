"""Levelling turned and slanted plates before reading (anpr.ocr.level), with the real PP-OCRv4 text
detector and the shipped reader, on synthetic plates turned or sheared by a known angle."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anpr.lab.bench import turned_plate
from anpr.ocr.level import Leveller, TextAngle, level, text_rows, unslanted


def framed_plate(seed: int, style: str = "eu"):
    """A synthetic plate on a grey surround (as a crop with margin), and its truth."""
    from anpr.lab.synth import render_plate

    plate = render_plate(np.random.default_rng([20261203, seed]), style)
    image = plate.image if plate.image.ndim == 3 else cv2.cvtColor(plate.image, cv2.COLOR_GRAY2BGR)
    h, w = image.shape[:2]
    framed = cv2.copyMakeBorder(image, h, h, w // 2, w // 2, cv2.BORDER_CONSTANT, value=(90, 90, 90))
    box = (w // 2, h, w // 2 + w, 2 * h)
    return framed, box, plate


@pytest.mark.parametrize("degrees", [-12.0, 10.0])
def test_the_text_angle_of_a_turned_plate_is_measured(degrees):
    """cv2 turns counter-clockwise for a positive angle, so the text line then rises to the right
    and the measured angle is about -degrees: within 3 degrees for most plates, and never the other
    way (a plate whose line the detector does not find measures 0 and is read as it is)."""
    angle = TextAngle()
    measured = []
    for seed in range(6):
        framed, box, _ = framed_plate(seed)
        measured.append(angle(turned_plate(framed, box, degrees)))
    assert sum(abs(m + degrees) < 3.0 for m in measured) >= 4
    assert all(m * degrees <= 0 for m in measured)


def test_a_line_missed_at_the_small_size_is_looked_for_at_the_larger_one():
    """At 96 px high the detector finds no line in this slanted plate's tall box; at the next size
    it does, and measures the slant."""
    from anpr.ocr.level import DETECTOR_HEIGHTS

    framed, box, _ = framed_plate(1)
    crop = turned_plate(framed, box, 12.0, slant=True)
    angle = TextAngle()
    small, larger = DETECTOR_HEIGHTS
    assert angle._found(crop, small) is None
    assert abs(angle._found(crop, larger).degrees + 12.0) < 3.0
    assert angle(crop) == angle._found(crop, larger).degrees


def test_level_trims_the_turned_crop_back_to_the_plate_size():
    framed, box, _ = framed_plate(0)
    w, h = box[2] - box[0], box[3] - box[1]
    crop = turned_plate(framed, box, 10.0)
    assert crop.shape[0] > h + 10  # the turned plate needs a taller box
    levelled = level(crop, -10.0)
    assert abs(levelled.shape[1] - w) <= 3 and abs(levelled.shape[0] - h) <= 3


def test_unslanted_trims_the_sheared_crop_back_to_the_plate_size():
    framed, box, _ = framed_plate(0)
    w, h = box[2] - box[0], box[3] - box[1]
    crop = turned_plate(framed, box, 15.0, slant=True)
    assert crop.shape[1] == w and crop.shape[0] > h + 10  # as wide, taller by w tan 15
    level_again = unslanted(crop, -15.0)
    assert level_again.shape[1] == w and abs(level_again.shape[0] - h) <= 2
    # its rows are the plate's own again: the sheared plate, sheared back, matches the original
    original = framed[box[1] : box[3], box[0] : box[2]].astype(float)
    inner = (slice(4, h - 4), slice(w // 4, 3 * w // 4))  # away from the repeated edges
    assert np.abs(level_again[: original.shape[0]][inner] - original[inner]).mean() < 12


def test_text_rows_keep_the_plate_characters_and_drop_small_print():
    """A state name above and a slogan below are under half the characters' height: the rows kept
    are the characters' own, a quarter of their height added each side."""
    assert text_rows([(10, 20), (30, 70), (72, 80)], 100) == (20, 80)
    # both lines of a two-line plate are the plate's text; together they are most of the crop
    assert text_rows([(10, 40), (50, 85)], 100) is None
    assert text_rows([(30, 45), (50, 62)], 100) == (26, 66)  # two lines in a taller crop, both kept
    assert text_rows([], 100) is None


def test_a_level_plate_in_a_tall_box_is_also_read_cut_to_its_text_rows():
    """A level plate boxed with much surround above and below: the crop itself, and beside it the
    crop's full width cut to the rows its characters are in (what a tight box would show)."""
    framed, box, _ = framed_plate(0)
    x1, y1, x2, y2 = box
    tall = framed[max(0, y1 - (y2 - y1) // 2) : y2 + (y2 - y1) // 2, x1:x2]
    (views,) = Leveller()([tall])
    assert len(views) == 2 and views[0] is tall
    cut = views[1]
    assert cut.shape[1] == tall.shape[1] and cut.shape[0] <= 0.75 * tall.shape[0]
    offset = cut.__array_interface__["data"][0] - tall.__array_interface__["data"][0]
    top = offset // tall.strides[0]  # the cut is rows of the crop itself: where it starts
    inside = (y1 - max(0, y1 - (y2 - y1) // 2), y2 - max(0, y1 - (y2 - y1) // 2))  # the plate's rows
    assert inside[0] - 2 <= top and top + cut.shape[0] <= inside[1] + 2


def test_level_crops_are_left_alone_and_slanted_ones_read_both_ways():
    """A level plate cut to its edges is handed on as its only view (the same array): its text is
    most of it; a leaning one as two views, turned level and sheared level."""
    leveller = Leveller()
    framed, box, _ = framed_plate(0)
    x1, y1, x2, y2 = box
    upright = framed[y1:y2, x1:x2]
    (views,) = leveller([upright])
    assert len(views) == 1 and views[0] is upright
    (views,) = leveller([turned_plate(framed, box, 12.0, slant=True)])
    assert len(views) == 2
    turned_back, sheared_back = views
    assert sheared_back.shape[1] == upright.shape[1] and abs(sheared_back.shape[0] - upright.shape[0]) <= 3
    assert turned_back.shape[1] < upright.shape[1]  # turning leans the plate's verticals instead


@pytest.mark.slow
@pytest.mark.parametrize("slant", [False, True], ids=["turned", "slanted"])
def test_leaning_plates_read_again(slant):
    """Plates turned or slanted (sheared) 20 degrees: the shipped reader reads more of them with
    levelling than without."""
    from anpr.ocr.crnn import CrnnReader

    plates = [framed_plate(seed) for seed in range(8)]
    crops = [turned_plate(framed, box, 20.0, slant=slant) for framed, box, _ in plates]
    truths = [plate.text for _, _, plate in plates]
    with_level = CrnnReader().read_batch(crops, "eu")
    without = CrnnReader(level=False).read_batch(crops, "eu")
    right_with = sum(r.text == t for r, t in zip(with_level, truths, strict=True))
    right_without = sum(r.text == t for r, t in zip(without, truths, strict=True))
    assert right_with >= 6 and right_with > right_without
