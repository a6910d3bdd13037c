"""The training recipe runs on the CPU end to end: a tiny member trained on synthetic and real
training crops, exported to ONNX, joined into an ensemble file, validated on the held-back splits,
model card written."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort

from anpr.ocr.crnn import MODEL_NAME
from anpr.train import ensemble, ocr


def test_a_member_trains_joins_and_gets_a_card(datasets, tmp_path, monkeypatch):
    monkeypatch.setenv("ANPR_DATASETS", str(datasets))
    member = tmp_path / "member-3"
    ocr.main(
        [
            *("--out", str(member), "--work", str(member), "--steps", "12", "--batch", "8"),
            *("--seed", "3", "--workers", "0"),
        ]
    )
    training = json.loads((member / "training.json").read_text())
    assert training["steps_done"] == 12 and training["args"]["seed"] == 3
    assert training["history"][-1]["step"] == 12  # validated at the end
    assert (member / f"{MODEL_NAME}.onnx").stat().st_size > 1_000_000
    ensemble.main(["--out", str(tmp_path / "models"), str(member), str(member)])
    joined = tmp_path / "models" / f"{MODEL_NAME}.onnx"
    session = ort.InferenceSession(str(joined), providers=["CPUExecutionProvider"])
    out = session.run(None, {"image": np.zeros((3, 1, 32, 128), np.float32)})[0]
    assert out.shape == (3, 2, 32, 37)
    np.testing.assert_allclose(out[:, 0], out[:, 1])
    card = (tmp_path / "models" / f"{MODEL_NAME}.md").read_text()
    assert "an ensemble of 2 CRNNs" in card
    assert card.count("--seed 3") == 2
    assert "| pk-plates-dev |" in card  # measured on the held-back split
