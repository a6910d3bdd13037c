"""The folds of the training half (anpr.lab.datasets.folds_of, part_of): decisions are made on them
so that the validation half stays unread."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from anpr.lab.datasets import Fold, LabelledCrop, LabelledPhoto, folds_of, part_of, pk_crops, split_of


def photo(name: str, region: str) -> LabelledPhoto:
    key = f"{region}/{name}.jpg"
    return LabelledPhoto(Path(key), region, (0, 0, 10, 5), "ABC123", split_of(key), "ABC123", key)


def crop(text: str, year: str, shot: int) -> LabelledCrop:
    key = f"{text}/{year}"
    return LabelledCrop(
        Path(f"{text}-{shot}.jpg"), text, year, "punjab", "one-line", True, split_of(key), key
    )


# a set shaped like the real ones: three regions of photos, Pakistani plates photographed 1-3 times
ITEMS: list[LabelledPhoto | LabelledCrop] = [
    *(photo(f"p{n}", ("us", "eu", "br")[n % 3]) for n in range(300)),
    *(crop(f"LE{n:04d}", "12", shot) for n in range(80) for shot in range(1 + n % 3)),
]


@pytest.mark.parametrize("count", [2, 3, 5])
def test_every_training_item_is_in_exactly_one_fold_and_no_validation_item_in_any(count):
    folds = [part_of(ITEMS, Fold(index, count)) for index in range(1, count + 1)]
    held = Counter(id(item) for fold in folds for item in fold)
    assert set(held.values()) == {1}
    training = {id(item) for item in ITEMS if item.split == "train"}
    assert set(held) == training
    assert any(item.split == "val" for item in ITEMS)  # the set has a validation half to keep out


def test_folds_do_not_depend_on_the_order_or_the_run():
    shuffled = ITEMS.copy()
    random.Random(3).shuffle(shuffled)
    assert folds_of(shuffled, 5) == folds_of(ITEMS, 5)
    # pinned: the same keys give the same folds on every machine and in every later run
    assert [folds_of(ITEMS, 5)[key] for key in ("us/p0.jpg", "eu/p4.jpg", "LE0002/12")] == [3, 3, 2]


def test_photos_of_one_plate_stay_in_one_fold():
    for index in range(1, 6):
        plates = {c.text for c in part_of(ITEMS, Fold(index, 5)) if isinstance(c, LabelledCrop)}
        every_shot = [c for c in ITEMS if isinstance(c, LabelledCrop) and c.text in plates]
        assert every_shot and all(c in part_of(ITEMS, Fold(index, 5)) for c in every_shot)


def test_each_fold_holds_an_equal_share_of_each_region():
    for count in (3, 5):
        per_fold = [
            Counter(getattr(i, "region", "pk-plate") for i in part_of(ITEMS, Fold(k, count)))
            for k in range(1, count + 1)
        ]
        for region in ("us", "eu", "br"):
            sizes = [fold[region] for fold in per_fold]
            assert max(sizes) - min(sizes) <= 1, (region, sizes)
        plates = [
            len({c.key for c in part_of(ITEMS, Fold(k, count)) if isinstance(c, LabelledCrop)})
            for k in range(1, count + 1)
        ]
        assert max(plates) - min(plates) <= 1


def test_the_halves_read_as_before():
    assert part_of(ITEMS, "val") == [i for i in ITEMS if i.split == "val"]
    assert part_of(ITEMS, "train") == [i for i in ITEMS if i.split == "train"]
    assert part_of(ITEMS, "all") == ITEMS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("6/5", "must be 1 to 5"),
        ("0/5", "must be 1 to 5"),
        ("1/1", "at least 2 folds"),
        ("2", "I/K"),
        ("a/b", "I/K"),
    ],
)
def test_a_bad_fold_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        Fold.parse(text)
    assert Fold.parse("2/5") == Fold(2, 5) and str(Fold(2, 5)) == "fold 2/5 of the training half"


def test_the_real_sets_pakistani_plates_keep_their_photos_together(datasets):
    crops = pk_crops(datasets)
    folds = folds_of(crops, 3)
    assert {c.key for c in crops if c.split == "train"} == set(folds)
    by_plate: dict[str, set[int]] = {}
    for c in crops:
        if c.split == "train":
            by_plate.setdefault(c.key, set()).add(folds[c.key])
    assert all(len(f) == 1 for f in by_plate.values())
