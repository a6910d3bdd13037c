"""`anpr read` as a user runs it: the real command, real models, real photos; and in-process with
scripted plate boxes and reads where what is listed does not depend on the models."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anpr.track import iou

ANPR = str(Path(sys.executable).with_name("anpr"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANPR, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def bad_inputs(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    return {"missing": tmp_path / "nope.jpg", "empty": empty, "text": text, "truncated": truncated}


def test_unreadable_inputs_get_an_error_each_and_a_non_zero_exit(bad_inputs):
    result = run("read", "--json", *map(str, bad_inputs.values()))
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["image"] for r in records] == [str(p) for p in bad_inputs.values()]
    assert all(r["error"] and r["plates"] == [] for r in records)
    assert "no such file" in records[0]["error"] and "empty file" in records[1]["error"]
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == len(bad_inputs)


@pytest.mark.slow
def test_an_unreadable_photo_after_a_good_one_is_a_one_line_error(tmp_path, bad_inputs):
    """Once the models are loaded, ultralytics' patched Image.open answers a file Pillow cannot
    identify by importing pi_heif: that must still be the photo's one-line error."""
    import cv2
    import numpy as np

    good = tmp_path / "street.png"
    cv2.imwrite(str(good), np.full((240, 320, 3), 128, np.uint8))
    result = run("read", "--json", str(good), str(bad_inputs["text"]))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["error"] is None
    assert "not a readable image" in records[1]["error"]


@pytest.mark.slow
def test_a_small_image_with_no_plate_found_in_it_is_read_whole(tmp_path):
    """A plate crop handed to `anpr read` without --crop: the detector finds no plate filling a tiny
    image, so it is read whole, with a note saying so; a camera-sized frame is not."""
    import cv2
    import numpy as np

    from anpr.lab.synth import render_plate
    from anpr.pipeline import PlateRecognizer

    recognizer, rng = PlateRecognizer(), np.random.default_rng(7)
    for _ in range(30):  # a plate the detector does not find at this size (most it does)
        plate = render_plate(rng, "pk-sindh-yellow")
        image = cv2.resize(plate.image, (124, 62), interpolation=cv2.INTER_AREA)
        if not recognizer.read_image(image).plates:
            break
    else:
        pytest.fail("the detector found every small synthetic plate: nothing to test")
    small = tmp_path / "plate.png"
    cv2.imwrite(str(small), image)
    frame = tmp_path / "frame.png"
    cv2.imwrite(str(frame), np.full((480, 640, 3), 128, np.uint8))
    result = run("read", "--json", str(small), str(frame))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["box"] for p in records[0]["plates"]] == [[0.0, 0.0, 124.0, 62.0]]
    assert records[0]["plates"][0]["text"] == plate.text
    assert records[1]["plates"] == []
    assert result.stderr.count("read whole as a plate crop") == 1


def test_bad_region_is_a_usage_error():
    result = run("read", "--region", "mars", "x.jpg")
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.slow
def test_reads_a_real_photo_and_links_the_plate_to_its_car(datasets):
    from anpr.lab.datasets import openalpr_photos

    photo = next(p for p in openalpr_photos() if p.split == "val" and p.path.name.startswith("1e241dc8"))
    result = run("read", "--json", str(photo.path))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["error"] is None and record["image"] == str(photo.path)
    plate = max(record["plates"], key=lambda p: iou(p["box"], photo.box))
    assert iou(plate["box"], photo.box) > 0.3  # the labelled plate was found
    assert set(plate) >= {"text", "year", "confidence", "box", "candidates", "region"}
    assert plate["text"].isalnum() and plate["text"] == plate["text"].upper()
    assert plate["candidates"][0]["text"] == plate["text"]
    assert record["vehicles"][plate["vehicle"]]["vehicle_type"] == "car"


def test_the_table_marks_a_read_under_the_calibrated_confidence(capsys):
    """An operator reading the table sees which reads to check against the photo."""
    from anpr.cli.read import _print_table

    def plate(text, confidence):
        return {"text": text, "year": None, "confidence": confidence, "region": "pk", "candidates": []}

    record = {"image": "a.jpg", "plates": [plate("LEH5789", 0.97)], "vehicles": [], "error": None}
    _print_table(record)
    assert "check" not in capsys.readouterr().out
    record["plates"].append(plate("LEB5789", 0.55))
    _print_table(record)
    out = capsys.readouterr().out
    assert "0.55 check" in out and "0.97 check" not in out
    assert "where most misreads on the validation sets fell" in " ".join(out.split())
    years = [{"text": y, "confidence": c} for y, c in (("10", 0.4), ("18", 0.38), ("19", 0.01))]
    unsure_year = plate("LED6129", 0.34) | {"year": "10", "year_candidates": years}
    _print_table({"image": "b.jpg", "plates": [unsure_year], "vehicles": [], "error": None})
    out = capsys.readouterr().out
    assert "10 (or 18)" in out and "19" not in out  # a 1 % year is not shown


@pytest.fixture
def read_with(monkeypatch, capsys, tmp_path):
    """Run `anpr read ARGS...` in-process on a blank 640x480 photo, its plates found and read as
    scripted (boxes, reads): no model is loaded. Returns (exit code, JSON records)."""
    import functools

    import cv2
    import numpy as np
    import typer

    import anpr.ocr
    import anpr.pipeline
    from anpr.cli import cli
    from anpr.cli.common import run_guarded
    from tests.anpr.test_pipeline import BoxesByShape, ScriptedReader

    photo = tmp_path / "street.png"
    cv2.imwrite(str(photo), np.zeros((480, 640, 3), np.uint8))
    crop = tmp_path / "plate.png"
    cv2.imwrite(str(crop), np.zeros((40, 120, 3), np.uint8))
    real = anpr.pipeline.PlateRecognizer

    def run(boxes, reads, *args: str):
        detector = BoxesByShape({(480, 640): boxes})
        monkeypatch.setattr(anpr.ocr, "get_reader", lambda name: ScriptedReader(*reads))
        monkeypatch.setattr(
            anpr.pipeline,
            "PlateRecognizer",
            lambda reader: real(reader=reader, vehicle_detector=BoxesByShape({}), plate_detector=detector),
        )
        image = crop if "--crop" in args else photo
        argv = ["read", "--json", *args, str(image)]
        capsys.readouterr()
        code = run_guarded(functools.partial(typer.main.get_command(cli).main, args=argv, prog_name="anpr"))
        out = capsys.readouterr().out
        return code, [json.loads(line) for line in out.splitlines()]

    return run


def test_read_lists_only_plausible_plates_and_counts_the_unread(read_with):
    """Issue #25: a photo's one- and two-character "plates" (0, L0, PJ, C) were listed beside the
    real one. They are unread now: not listed, counted."""
    from anpr.plates.unread import UNREAD_FLOOR

    boxes = [[10, 10, 60, 30], [100, 10, 150, 30], [200, 10, 250, 30], [300, 10, 350, 30], [400, 10, 450, 30]]
    junk = (("0", 0.31), ("L0", UNREAD_FLOOR / 3), ("PJ", UNREAD_FLOOR / 5), ("C", 0.2))
    code, [record] = read_with(boxes, (("LEH5789", 0.97), *junk))
    assert code == 0 and record["error"] is None
    assert [p["text"] for p in record["plates"]] == ["LEH5789"] and record["unread"] == 4
    code, [record] = read_with(boxes[1:], junk, "--region", "pk")
    assert (code, record["plates"], record["unread"]) == (0, [], 4)


def test_the_table_says_when_plate_boxes_were_found_but_none_read(capsys):
    from anpr.cli.read import _print_table

    _print_table({"image": "a.jpg", "plates": [], "unread": 2, "vehicles": [], "error": None})
    out = capsys.readouterr().out
    assert "(2 unreadable plate boxes)" in out and "no plate found" not in out
    _print_table({"image": "b.jpg", "plates": [], "unread": 0, "vehicles": [], "error": None})
    assert "(no plate found)" in capsys.readouterr().out


def test_read_crop_of_an_unreadable_plate_prints_one_unread_record(read_with):
    code, [record] = read_with([], (("T", 0.0056),), "--crop")
    assert code == 0 and record["unread"] == 0
    [plate] = record["plates"]
    assert (plate["text"], plate["confidence"], plate["year"], plate["format"]) == ("", 0.0056, None, None)


def test_an_oversized_image_gets_its_own_error_and_the_others_are_read(tmp_path):
    """A decompression bomb (200 MP in a 24 kB PNG) between two photos: one line for it, the other
    two still read, exit status 1."""
    from PIL import Image

    Image.new("1", (20000, 10000)).save(tmp_path / "huge.png")
    for name in ("a.png", "b.png"):
        Image.new("RGB", (64, 32), (255, 255, 255)).save(tmp_path / name)
    result = run(
        "read", str(tmp_path / "a.png"), str(tmp_path / "huge.png"), str(tmp_path / "b.png"), "--json"
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and [r["error"] is None for r in records] == [True, False, True]
    assert "over the 100 MP limit" in records[1]["error"] and "Traceback" not in result.stderr
