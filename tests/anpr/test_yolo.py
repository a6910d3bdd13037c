"""The detectors run on onnxruntime from the cut head files (anpr.yolo) and must find what
Ultralytics finds with the shipped weights on the same input."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv

from anpr.weights import PROJECT_ROOT, offline_ultralytics, weight_path
from anpr.yolo import YoloHeads, cut_heads, letterbox

SAMPLE = PROJECT_ROOT / "sample_videos" / "regal-chowk.mp4"


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(SAMPLE))
    images = []
    for index in range(40):
        ok, image = capture.read()
        assert ok, f"cannot read {SAMPLE}"
        if index % 10 == 5:
            images.append(image)
    capture.release()
    return images


def _ultralytics(path: Path):
    offline_ultralytics()
    from ultralytics import YOLO

    return YOLO(str(path), task="detect")


def _same(expected, found) -> None:
    boxes, confidence, class_id = found
    want = expected.boxes
    assert len(boxes) == len(want) and len(boxes) > 0
    order_want = np.lexsort(want.xyxy.numpy().T[::-1])
    order_found = np.lexsort(boxes.T[::-1])
    np.testing.assert_allclose(boxes[order_found], want.xyxy.numpy()[order_want], atol=0.5)
    np.testing.assert_allclose(confidence[order_found], want.conf.numpy()[order_want], atol=1e-3)
    np.testing.assert_array_equal(class_id[order_found], want.cls.numpy().astype(int)[order_want])


@pytest.mark.slow
def test_vehicle_heads_find_what_ultralytics_finds_on_the_fixed_export(frames):
    model = _ultralytics(weight_path("vehicle-detector"))
    heads = YoloHeads(weight_path("vehicle-detector-heads"))
    for image in frames:
        expected = model.predict(
            image, conf=0.1, imgsz=640, classes=[2, 3, 5, 7], verbose=False, device="cpu"
        )[0]
        (found,) = heads.detect([image], 640, 0.1, classes=[2, 3, 5, 7], square=True)
        _same(expected, found)


@pytest.mark.slow
def test_plate_heads_find_what_ultralytics_finds_with_the_pytorch_weights(frames):
    model = _ultralytics(weight_path("plate-detector"))
    heads = YoloHeads(weight_path("plate-detector-heads"))
    vehicles = YoloHeads(weight_path("vehicle-detector-heads"))
    image = frames[2]
    boxes = vehicles.detect([image], 640, 0.3, classes=[2, 3, 5, 7])[0][0].astype(int)
    assert len(boxes) >= 3
    compared = 0
    for x1, y1, x2, y2 in boxes:  # plates inside each vehicle, at the video pipeline's 320 px
        crop = image[y1:y2, x1:x2]
        expected = model.predict(crop, conf=0.05, imgsz=320, verbose=False, device="cpu")[0]
        if len(expected.boxes):
            _same(expected, heads.detect([crop], 320, 0.05)[0])
            compared += 1
    assert compared >= 3


def test_a_frame_runs_at_its_own_shape_not_a_square(frames):
    padded, fit = letterbox(np.zeros((1080, 1920, 3), np.uint8), 640)
    assert padded.shape[:2] == (384, 640) and (fit.left, fit.top) == (0, 12)
    heads = YoloHeads(weight_path("vehicle-detector-heads"))
    square = heads.detect([frames[0]], 640, 0.25, square=True)[0][0]
    rect = heads.detect([frames[0]], 640, 0.25)[0][0]
    assert len(rect) == len(square) > 0
    np.testing.assert_allclose(np.sort(rect, axis=0), np.sort(square, axis=0), atol=4.0)


def test_a_batch_finds_what_each_image_finds_alone(frames):
    heads = YoloHeads(weight_path("plate-detector-heads"))
    crops = [frames[0][200:700, 300:900], frames[1][100:400, 0:1200]]
    together = heads.detect(crops, 320, 0.05)
    for crop, (boxes, confidence, _) in zip(crops, together, strict=True):
        alone, alone_conf, _ = heads.detect([crop], 320, 0.05)[0]
        np.testing.assert_allclose(boxes, alone, atol=0.5)
        np.testing.assert_allclose(confidence, alone_conf, atol=1e-3)


def test_an_onnx_that_is_not_a_yolo_detector_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a YOLOv8 detect export"):
        cut_heads(weight_path("plate-reader-crnn"), tmp_path / "x.onnx")


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    return sv.box_iou_batch(box[None], boxes)[0]


def _int8_finds_the_float_boxes(floats, ints, min_iou: float, bottom_px: float) -> int:
    """Each confident float box has an int8 box over it with its bottom edge (the ground point)
    within `bottom_px`; the number compared."""
    compared = 0
    for (want, want_conf, _), (got, _, _) in zip(floats, ints, strict=True):
        for box in want[want_conf > 0.3]:
            assert len(got), "the int8 model found nothing where the float model found a box"
            best = int(np.argmax(_iou(box, got)))
            assert _iou(box, got)[best] >= min_iou
            assert abs(got[best][3] - box[3]) <= bottom_px
            compared += 1
    return compared


def test_the_int8_vehicle_model_puts_its_boxes_where_the_float_one_does(frames):
    # frames 5, 15, 25 and 35 of a sample video: not among the calibration images (every 4th frame)
    floats = YoloHeads(weight_path("vehicle-detector-heads"))
    ints = YoloHeads(weight_path("vehicle-detector-int8"))
    found = [heads.detect(frames, 640, 0.1, classes=[2, 3, 5, 7]) for heads in (floats, ints)]
    assert _int8_finds_the_float_boxes(*found, min_iou=0.9, bottom_px=6) >= 8


def test_a_detector_knows_its_precisions():
    from anpr.detect import PlateDetector, VehicleDetector

    assert VehicleDetector(precision="int8").model.session is not None
    with pytest.raises(ValueError, match="precision 'fp16': one of float32, int8"):
        VehicleDetector(precision="fp16")
    with pytest.raises(ValueError, match="precision 'int8': one of float32"):
        PlateDetector(precision="int8")


def test_video_runs_the_vehicle_detector_the_setting_names(monkeypatch):
    from anpr.process import video_detector

    assert video_detector().precision == "float32"
    monkeypatch.setenv("ANPR_VIDEO_DETECTOR", "int8")
    detector = video_detector()
    assert detector.precision == "int8" and detector.conf == 0.1
    assert Path(detector.model.session._model_path).name == "vehicle-detector-int8.onnx"
