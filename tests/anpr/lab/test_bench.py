"""The benchmark's tallies: exact reads against the published label and against the correction."""

import math

import pytest

from anpr.lab.bench import Tally, calibration, routing


def test_tally_scores_published_labels_and_corrections_apart():
    tally = Tally()
    tally.add(["all", "eu"], "RKO26AJ", "RK026AJ", 0.9, printed="RK026AJ")  # label wrong, read right
    tally.add(["all", "eu"], "RK248AH", "RK248AH", 0.95)  # no correction: both count it
    tally.add(["all", "us"], "7EAV033", "7FAV033", 0.4)  # a real misread counts against both
    assert tally.accuracy("all") == 1 / 3
    assert tally.accuracy("all", corrected=True) == 2 / 3
    assert tally.accuracy("eu", corrected=True) == 1.0
    assert tally.confusions == {"E->F": 1}  # the reader's: the Slovak 0 the label calls O is not one
    rows = {label: (n, acc) for label, n, acc in calibration(tally.scored)}
    assert rows["0.00-0.50"] == (1, 0.0) and rows["0.90-0.95"] == (1, 0.0)
    assert routing(tally.scored, 0.8) == (3, 1, 2, 1)  # the label's error at 0.9 escapes the mark
    assert routing(tally.scored_printed, 0.8) == (3, 1, 1, 1)
    corrected = {label: (n, acc) for label, n, acc in calibration(tally.scored_printed)}
    assert corrected["0.00-0.50"] == (1, 0.0) and corrected["0.90-0.95"] == (1, 1.0)


def test_the_end_to_end_read_is_the_detection_over_the_labelled_plate():
    """A plate box drawn around a small labelled text box is still that plate (IoU 0.38 here), but
    recall keeps the usual IoU 0.5; a box elsewhere or a far larger one is not the plate."""
    from anpr.lab.bench import matched_plate
    from anpr.types import PlateRead

    label = (315, 328, 407, 374)  # text box of a US plate
    plate = PlateRead(text="CG2H2U", confidence=0.3, box=(277, 321, 453, 385))
    elsewhere = PlateRead(text="XYZ123", confidence=0.9, box=(600, 300, 700, 350))
    assert matched_plate([elsewhere, plate], label) == (plate, False)
    tight = PlateRead(text="CG2H2V", confidence=0.6, box=(318, 330, 405, 372))
    assert matched_plate([plate, tight], label) == (tight, True)
    huge = PlateRead(text="CG2H2U", confidence=0.9, box=(115, 228, 607, 474))
    assert matched_plate([huge, elsewhere], label) == (None, False)
    assert matched_plate([], label) == (None, False)


@pytest.mark.slow
def test_synthetic_bench_reads_every_style_and_counts_the_year():
    """Three fresh plates per style through the shipped reader: every style is scored, a read counts
    with the year only if it counts without, and the reader gets most of them (a bench comparing
    the wrong fields, or plates it cannot see, would score nothing)."""
    from anpr.lab.bench import bench_synthetic
    from anpr.lab.synth import STYLES
    from anpr.ocr import get_reader

    rows = bench_synthetic(get_reader("auto"), per_style=3)
    assert list(rows) == list(STYLES)
    for row in rows.values():
        assert row["n"] == 3
        assert 0 <= row["with_year"] <= row["text"] <= 3 and 0 <= row["auto_with_year"] <= 3
    assert sum(row["with_year"] for row in rows.values()) >= 2 * len(STYLES)


def test_a_turned_box_holds_the_turned_plate():
    """Turning a 100x20 box by 90 degrees needs a 20x100 box about the same centre; 0 keeps it."""
    from anpr.lab.bench import turned_box

    assert turned_box((0, 0, 100, 20), 0) == (0, 0, 100, 20)
    x1, y1, x2, y2 = turned_box((0, 0, 100, 20), 90)
    assert (round(x1), round(y1), round(x2), round(y2)) == (40, -40, 60, 60)
    x1, y1, x2, y2 = turned_box((0, 0, 100, 20), -8)
    assert 100 < x2 - x1 < 102 and 33 < y2 - y1 < 34


def test_a_turned_crop_keeps_the_whole_plate():
    """A crop turned whole keeps all four corners in view (turning it in place would cut them off)
    and grows to the box that holds it; upright it is the crop itself."""
    import numpy as np

    from anpr.lab.bench import turned_crop

    plate = np.full((50, 100, 3), 255, np.uint8)
    for y, x in ((0, 0), (0, 90), (40, 0), (40, 90)):
        plate[y : y + 10, x : x + 10] = (0, 0, 255)  # a red mark in each corner
    assert (turned_crop(plate, 0.0) == plate).all()
    view = turned_crop(plate, 20.0)
    assert view.shape[0] > 50 and view.shape[1] > 100
    red = (view[:, :, 2] > 150) & (view[:, :, 0] < 100)
    quarters = (
        red[: view.shape[0] // 2, : view.shape[1] // 2],
        red[: view.shape[0] // 2, view.shape[1] // 2 :],
        red[view.shape[0] // 2 :, : view.shape[1] // 2],
        red[view.shape[0] // 2 :, view.shape[1] // 2 :],
    )
    assert all(q.sum() >= 50 for q in quarters)  # each corner mark nearly whole (100 px)


def test_a_slanted_crop_keeps_its_columns_and_shears_its_rows():
    """Slanting (a camera beside and above the road) keeps the plate's width and its vertical
    strokes upright and moves its right side up for a positive angle, as turning does: a 100 px
    wide plate slanted 45 degrees needs a box 100 px taller; a mark at the right edge rises by
    about the slope times its distance from the centre, one at the centre stays."""
    import numpy as np

    from anpr.lab.bench import slanted_box, turned_crop

    assert slanted_box((0, 0, 100, 20), 45) == pytest.approx((0, -50, 100, 70))
    plate = np.full((50, 100, 3), 255, np.uint8)
    plate[20:30, 90:100] = (0, 0, 255)  # a red mark at the right edge, mid-height
    plate[20:30, 45:55] = (255, 0, 0)  # a blue one at the centre
    assert (turned_crop(plate, 0.0, slant=True) == plate).all()
    view = turned_crop(plate, 20.0, slant=True)
    assert view.shape[1] == 100 and abs(view.shape[0] - (50 + 100 * math.tan(math.radians(20)))) <= 2
    centre_y = view.shape[0] / 2

    def mark_row(channel):
        rows, _ = np.nonzero((view[:, :, channel] > 150) & (view[:, :, 2 - channel] < 100))
        return rows.mean()

    assert abs(mark_row(0) - centre_y) < 2  # the centre's mark stays
    assert abs((centre_y - mark_row(2)) - 45 * math.tan(math.radians(20))) < 3  # the edge's rises


@pytest.mark.slow
def test_tilt_bench_reads_upright_plates_better_than_steeply_turned_ones(datasets):
    """The real held-back plates, upright and turned 30 degrees: upright, the shipped reader reads
    most; turned that far it must lose some (a bench that did not turn the image, or that scored
    the wrong field, would show the same count or none at all)."""
    from anpr.lab.bench import bench_tilt
    from anpr.lab.datasets import openalpr_photos, pk_crops
    from anpr.ocr import get_reader

    upright, steep = bench_tilt(get_reader("auto"), angles=(0.0, 30.0))
    assert upright["degrees"] == 0.0 and steep["degrees"] == 30.0
    assert upright["openalpr_n"] == sum(p.split == "val" for p in openalpr_photos()) > 0
    assert upright["pk_n"] == sum(c.split == "val" and c.legible for c in pk_crops()) > 0
    assert upright["openalpr"] <= upright["openalpr_corrected"]
    assert upright["openalpr_corrected"] >= 0.85 * upright["openalpr_n"]
    assert upright["pk_with_year"] >= 0.85 * upright["pk_n"]
    assert steep["openalpr_corrected"] < upright["openalpr_corrected"]


def test_a_pasted_plate_covers_the_labelled_plate_inside_the_photo():
    """The crop is scaled to PASTE_WIDTH times the labelled box's width, keeps its aspect, is centred
    on the box and is shifted back inside the photo at its edge."""
    import numpy as np

    from anpr.lab.bench import PASTE_WIDTH, pasted_plate

    photo = np.full((100, 200, 3), 90, np.uint8)
    plate = np.full((30, 60, 3), 200, np.uint8)
    out, box = pasted_plate(photo, (50, 40, 90, 60), plate)
    assert PASTE_WIDTH == 1.5 and box == (40, 35, 100, 65)
    assert (out[35:65, 40:100] == 200).all() and (out[:35] == 90).all() and (photo == 90).all()
    _, box = pasted_plate(photo, (180, 90, 200, 100), plate)
    assert box == (170, 85, 200, 100)


@pytest.mark.slow
def test_pasted_pakistani_plates_are_found_and_read_end_to_end(datasets):
    """Real held-back Pakistani crops pasted on real car photos go through the whole pipeline (vehicle
    and plate detection, then the reader): most are found and read, two-line plates in order."""
    from anpr.images import load_image
    from anpr.lab.bench import _same_plate, matched_plate, pasted_plate
    from anpr.lab.datasets import openalpr_photos, pk_crops
    from anpr.pipeline import PlateRecognizer

    recognizer = PlateRecognizer()
    cars = [p for p in openalpr_photos() if p.split == "val" and p.region == "us"][:6]
    plates = [c for c in pk_crops() if c.split == "val" and c.legible and c.layout == "two-line"][:6]
    right = 0
    for car, plate in zip(cars, plates, strict=True):
        photo, box = pasted_plate(load_image(car.path), car.box, load_image(plate.path))
        read, _ = matched_plate(recognizer.read_image(photo, "pk").plates, box)
        right += read is not None and _same_plate(read, plate)
    assert right >= 4


def _linked_sets(datasets, root, photos: int, crops: int):
    """A small copy of the sets under `root`: the first photos and crops of each labels.csv, the
    images linked (never copied) from ../shared."""
    import csv

    for name, keep, column in (("openalpr-dev", photos, "image"), ("pk-plates-dev", crops, "file")):
        with (datasets / name / "labels.csv").open(newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [row for row in reader if name == "openalpr-dev" or row["legible"] == "yes"][:keep]
            fields = reader.fieldnames
        (root / name).mkdir(parents=True)
        with (root / name / "labels.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        for row in rows:
            target = root / name / row[column]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(datasets / name / row[column])
    return root


@pytest.mark.slow
def test_bench_accuracy_scores_another_copy_of_the_sets_and_writes_every_read(datasets, tmp_path):
    """`--datasets DIR --split all --reads CSV`: every plate of the other copy is scored and each of
    its reads written, with the label, what was read and whether it was exact."""
    import csv

    from tests.anpr.cli.test_common import run

    root = _linked_sets(datasets, tmp_path / "sets", photos=3, crops=2)
    # another set's own conventions: separators in a label, a region the grammar lacks, four-digit
    # years, and a file that is not an image
    labels = root / "openalpr-dev" / "labels.csv"
    head, first, *rest = labels.read_text().splitlines()
    image, _, *box, plate = first.split(",")
    labels.write_text(
        "\n".join(
            [
                head,
                ",".join([image, " XX", *box, f"{plate[:3]}-{plate[3:]}"]),
                *rest,
                "us/cut.jpg,us,1,1,20,10,AB123",
                "",
            ]
        )
    )
    (root / "openalpr-dev" / "us" / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    crops = root / "pk-plates-dev" / "labels.csv"
    crops.write_text(crops.read_text().replace(",07,", ",2007,"))
    out = tmp_path / "reads.csv"
    result = run("bench", "accuracy", "--datasets", str(root), "--split", "all", "--reads", str(out))
    assert result.returncode == 0, result.stderr
    assert "Skipped 1 unreadable file, not counted" in " ".join(result.stdout.split())
    rows = list(csv.DictReader(out.open()))
    assert {(r["group"], r["label"]) for r in rows if r["image"] == image} == {("xx", plate.upper())}
    assert "LEH5789/07" in {r["label"] for r in rows if r["measure"] == "crop, with year"}
    measures = {(row["set"], row["measure"]) for row in rows}
    assert ("openalpr-dev", "labelled box") in measures and ("pk-plates-dev", "crop, with year") in measures
    boxes = [row for row in rows if row["measure"] == "labelled box"]
    assert len(boxes) == 3 and len([r for r in rows if r["measure"] == "crop"]) == 2
    assert all(row["exact"] == str(row["read"] == row["label"]) for row in rows)
    assert sum(row["exact"] == "True" for row in boxes) >= 2  # the shipped reader reads most of them
    assert f"{len(rows)} reads written" in result.stdout


def test_bench_accuracy_refuses_a_folder_without_the_sets(tmp_path):
    from tests.anpr.cli.test_common import run

    result = run("bench", "accuracy", "--datasets", str(tmp_path))
    assert result.returncode != 0 and "no labelled plates" in result.stderr
    assert "Traceback" not in result.stderr
    (tmp_path / "pk-plates-dev").mkdir()
    (tmp_path / "pk-plates-dev" / "labels.csv").write_text("file,plate\n1.jpg,ABC123\n")
    result = run("bench", "accuracy", "--datasets", str(tmp_path))
    assert result.returncode != 0 and "no column series" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_shrinking_scales_the_image_by_area():
    import numpy as np

    from anpr.lab.bench import shrunk

    image = np.zeros((40, 100, 3), np.uint8)
    image[:, :50] = 200
    small = shrunk(image, 0.5)
    assert small.shape == (20, 50, 3)
    assert (small[:, :25] == 200).all() and (small[:, 25:] == 0).all()


@pytest.mark.slow
def test_resolution_bench_reads_the_same_plates_at_every_width(datasets):
    """As photographed and at 120 px the shipped reader reads most held-back plates; shrunk to 16 px
    (a few pixels a character) it must lose most (a bench that did not shrink them would not)."""
    from anpr.lab.bench import bench_resolution
    from anpr.ocr import get_reader

    original, wide, tiny = bench_resolution(get_reader("auto"), widths=(120, 16))
    assert [row["width"] for row in (original, wide, tiny)] == [0, 120, 16]
    assert original["openalpr_n"] == wide["openalpr_n"] == tiny["openalpr_n"] > 20
    assert original["pk_n"] == tiny["pk_n"] > 20
    assert original["openalpr_corrected"] >= 0.85 * original["openalpr_n"]
    assert wide["pk_with_year"] >= 0.8 * wide["pk_n"]
    assert tiny["openalpr_corrected"] < 0.5 * original["openalpr_corrected"]
    assert tiny["pk_with_year"] < 0.5 * original["pk_with_year"]


@pytest.mark.slow
def test_resolution_bench_runs_shrunk_photos_through_the_whole_pipeline(datasets, monkeypatch):
    """Four held-back photos (the bench restricted to them): as photographed the pipeline finds and
    reads most; with the text 12 px wide it cannot (a bench that read the unshrunk photo would)."""
    from anpr.lab import bench
    from anpr.lab.datasets import openalpr_photos
    from anpr.ocr import get_reader
    from anpr.pipeline import PlateRecognizer

    photos = [p for p in openalpr_photos() if p.split == "val" and p.box[2] - p.box[0] >= 120][:4]
    monkeypatch.setattr(bench, "openalpr_photos", lambda: photos)
    monkeypatch.setattr(bench, "pk_crops", lambda: [])
    reader = get_reader("auto")
    original, tiny = bench.bench_resolution(reader, widths=(12,), recognizer=PlateRecognizer(reader=reader))
    assert original["openalpr_n"] == tiny["openalpr_n"] == 4 and original["pk_n"] == 0
    assert original["openalpr_end_to_end"] >= 3
    assert tiny["openalpr_end_to_end"] < original["openalpr_end_to_end"]


@pytest.mark.slow
def test_the_end_to_end_check_finds_the_plate_where_the_bench_moved_it(datasets):
    """A held-back photo slanted 20 degrees about its plate: the whole pipeline finds the plate in
    the box that now holds it and reads it; asked about a box where no plate is, it finds nothing."""
    from anpr.images import load_image
    from anpr.lab.bench import leaning_view, read_end_to_end
    from anpr.lab.datasets import openalpr_photos
    from anpr.pipeline import PlateRecognizer

    (photo,) = [p for p in openalpr_photos(datasets) if p.path == datasets / "openalpr-dev/eu/test_018.jpg"]
    assert photo.split == "val"
    recognizer = PlateRecognizer()
    view, held = leaning_view(load_image(photo.path), photo.box, 20.0, slant=True)
    assert held[3] - held[1] > photo.box[3] - photo.box[1] + 20  # the box grew to hold the slant
    assert read_end_to_end(recognizer, view, photo, held)
    assert not read_end_to_end(recognizer, view, photo, (0, 0, 10, 10))


def test_a_fold_bench_reads_that_fold_of_the_training_half_and_says_so(datasets):
    """`anpr bench accuracy --fold I/K` reads fold I of the training half, the K folds together the
    whole half and nothing of the validation half; its report says first that it is no validation
    figure. No models: the selection and an empty run's report."""
    from rich.console import Console

    from anpr.lab.bench import OpenalprTallies, PkTallies
    from anpr.lab.bench_report import AccuracyRun, plates_to_read, print_accuracy
    from anpr.lab.datasets import Fold, openalpr_photos, part_of

    sizes = [plates_to_read(datasets, Fold(k, 3)) for k in (1, 2, 3)]
    assert min(sizes) > 0 and sum(sizes) == plates_to_read(datasets, "train")
    photos = part_of(openalpr_photos(datasets), Fold(1, 3))
    assert photos and all(p.split == "train" for p in photos)
    console = Console(record=True, width=200)
    print_accuracy(AccuracyRun("crnn", Fold(1, 3), photos, OpenalprTallies(), PkTallies()), console)
    text = console.export_text()
    assert text.startswith("Scored on fold 1/3 of the training half, NOT the validation half")
    assert "fold 1/3 of the training half (not the validation half)" in text  # the table's title
    console = Console(record=True, width=200)
    print_accuracy(AccuracyRun("crnn", "val", [], OpenalprTallies(), PkTallies()), console)
    assert "split=val" in console.export_text() and "NOT" not in console.export_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--fold", "6/5"), "must be 1 to 5"),
        (("--fold", "2"), "I/K"),
        (("--fold", "2/5", "--split", "all"), "leave --split out"),
    ],
)
def test_bench_accuracy_refuses_a_bad_fold_with_exit_2(argv, message):
    import re

    from tests.anpr.cli.test_common import run

    result = run("bench", "accuracy", *argv)
    assert result.returncode == 2 and message in re.sub(r"[\s│]+", " ", result.stderr)
    assert "Traceback" not in result.stderr
