"""Joining trained readers into one ONNX file (anpr.lab.train.ensemble), run with onnxruntime."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from anpr.lab.train.ensemble import join
from anpr.weights import weight_path


def run(path, batch: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"image": batch})[0]


def test_joined_file_stacks_every_member_output(tmp_path):
    single = weight_path("plate-reader-crnn")
    out = tmp_path / "pair.onnx"
    onnx.save(join([single, single]), str(out))
    batch = np.random.default_rng(0).normal(size=(3, 1, 32, 128)).astype(np.float32)
    alone, joined = run(single, batch), run(out, batch)
    assert joined.shape == (3, 2, *alone.shape[1:])
    np.testing.assert_allclose(joined[:, 0], alone, atol=1e-6)
    np.testing.assert_allclose(joined[:, 1], alone, atol=1e-6)


def test_a_member_with_other_names_is_refused(tmp_path):
    model = onnx.load(str(weight_path("plate-reader-crnn")))
    model.graph.output[0].name = "logits"
    for node in model.graph.node:
        node.output[:] = ["logits" if name == "log_probs" else name for name in node.output]
    odd = tmp_path / "odd.onnx"
    onnx.save(model, str(odd))
    with pytest.raises(ValueError, match="expected input 'image' and output 'log_probs'"):
        join([weight_path("plate-reader-crnn"), odd])


def test_a_member_read_back_as_torch_computes_what_its_onnx_file_computes():
    """Fine-tuning starts from the committed file: each member rebuilt as the torch CRNN (norms
    folded, LSTM gates re-ordered) must give the file's own log-probabilities, and stay so with its
    norms frozen in training mode."""
    import torch

    from anpr.lab.train.ensemble import freeze_norms, member_state
    from anpr.ocr.crnn import build_model

    path = weight_path("plate-reader-crnn")
    batch = np.random.default_rng(1).normal(size=(4, 1, 32, 128)).astype(np.float32)
    expected = run(path, batch)
    for member in range(expected.shape[1]):
        model = build_model()
        model.load_state_dict(member_state(path, member))
        model.train()
        freeze_norms(model)
        model.features[-1].p = 0.0  # dropout off: the comparison is about the weights
        with torch.no_grad():
            got = model(torch.from_numpy(batch)).numpy()
        np.testing.assert_allclose(got, expected[:, member], atol=1e-4)
        assert not any(p.requires_grad for n, p in model.named_parameters() if n.startswith("features.1."))
    with pytest.raises(ValueError, match="no member 7"):
        member_state(path, 7)
