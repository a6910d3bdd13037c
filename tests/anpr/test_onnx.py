"""Every model opens through anpr.onnx.session: onnxruntime's threads do not spin between runs
(they would take the cores from video decoding and encoding), unless ANPR_ORT_SPIN=1."""

import pytest

from anpr.onnx import session
from anpr.weights import weight_path

SPIN = "session.intra_op.allow_spinning"


def _spinning(monkeypatch, setting: str | None) -> str:
    if setting is None:
        monkeypatch.delenv("ANPR_ORT_SPIN", raising=False)
    else:
        monkeypatch.setenv("ANPR_ORT_SPIN", setting)
    options = session(weight_path("plate-reader-crnn"), threads=1).get_session_options()
    assert options.intra_op_num_threads == 1
    try:
        return options.get_session_config_entry(SPIN)
    except RuntimeError:  # not set: onnxruntime's default, spinning
        return "default"


@pytest.mark.parametrize("setting", [None, "0"])
def test_worker_threads_do_not_spin_by_default(monkeypatch, setting):
    assert _spinning(monkeypatch, setting) == "0"


def test_ANPR_ORT_SPIN_leaves_onnxruntime_spinning(monkeypatch):
    assert _spinning(monkeypatch, "1") == "default"
