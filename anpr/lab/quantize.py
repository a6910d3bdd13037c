"""The vehicle detector's int8 copy, which video runs where ANPR_VIDEO_DETECTOR=int8:
`python -m anpr.lab.quantize` (the recipe).

On this 2-core CPU (AVX2) a YOLOv8n vehicle pass over a 1080p frame (640x384) takes 40-46 ms in
float32 and 27-29 ms with int8 weights and activations, and video runs it 6-8 times a second. The
boxes stay where they were: on two training-half road clips, 1 box in 291 lost, mean IoU with the
float boxes 0.97, bottom edges (the ground point speed is measured from) 1 px apart on average at
1080p; but on the validation road clip one car of 12 was misread with it, so it is not the default
(docs/notes/int8-detectors.md). The plate model stays float: int8 moved its boxes (0.90 IoU)
for a quarter less time.

onnxruntime's static quantization (QDQ, weights int8 per channel, activations uint8) needs the range of
each activation, taken over calibration images that look like what the model will see: the project's
two sample videos (every 4th frame) and 60 photos of openalpr-dev's training half, as a frame is
searched (letterboxed to 640 on the longer side). The validation half is never read. Calibration is
MinMax, so the same images and the same onnxruntime give the same file; its SHA-256 is pinned in
models/manifest.yaml."""

from __future__ import annotations

import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

PHOTOS = 60  # openalpr-dev training-half photos in the calibration set
VIDEO_STEP = 4  # every 4th frame of each sample video
SOURCE, TARGET = "vehicle-detector-heads", "vehicle-detector-int8"  # manifest entries


def calibration_images() -> Iterator[np.ndarray]:
    """BGR images: the sample videos' frames, then training photos in a fixed shuffled order."""
    import av

    from anpr.images import load_image
    from anpr.lab.datasets import openalpr_photos
    from anpr.weights import PROJECT_ROOT

    for video in sorted((PROJECT_ROOT / "sample_videos").glob("*.mp4")):
        with av.open(str(video)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index % VIDEO_STEP == 0:
                    yield frame.to_ndarray(format="bgr24")
    photos = sorted((p for p in openalpr_photos() if p.split == "train"), key=lambda p: str(p.path))
    random.Random(0).shuffle(photos)
    for photo in photos[:PHOTOS]:
        yield load_image(photo.path)


def quantize(source: Path, target: Path) -> None:
    """Write `target`: `source` (a cut YOLOv8 head file, anpr.yolo) with int8 weights and activations."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from anpr.yolo import letterbox, to_blob

    input_name = onnx.load(str(source)).graph.input[0].name
    blobs = (to_blob([letterbox(image, 640)[0]]) for image in calibration_images())

    class Images(CalibrationDataReader):
        def get_next(self) -> dict | None:
            blob = next(blobs, None)
            return None if blob is None else {input_name: blob}

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(target),
            Images(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )


def main(argv: list[str]) -> None:
    from anpr.lab.datasets import shared_datasets
    from anpr.weights import load_manifest, models_dir, sha256_of, weight_path

    if argv:
        raise SystemExit("usage: python -m anpr.lab.quantize (writes the file models/manifest.yaml names)")
    if shared_datasets() is None:
        raise SystemExit(
            "../shared/datasets is absent (set ANPR_DATASETS): calibration reads its training half"
        )
    target = models_dir() / load_manifest()[TARGET].file
    quantize(weight_path(SOURCE), target)
    print(f"{TARGET}: {target} sha256 {sha256_of(target)} (pin it in models/manifest.yaml)")


if __name__ == "__main__":
    main(sys.argv[1:])
