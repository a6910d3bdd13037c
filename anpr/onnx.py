"""One way to open an ONNX model on onnxruntime's CPU provider, for every model the system runs.

onnxruntime's worker threads spin for a while after each run, waiting for the next. On a 2-core box
that also decodes the video in one thread and encodes the overlay in x264's, the spinning takes the
cores from them: `anpr process` on the road bench took 24-28 s instead of 32-37, and 38-43 s of CPU
instead of 63-71, with spinning off (docs/notes/realtime-2.md). ANPR_ORT_SPIN=1 turns it back on
(for a box that runs the models alone)."""

from __future__ import annotations

import os
from pathlib import Path


def session(model: Path | str | bytes, threads: int | None = None, log_level: int | None = None):
    """An InferenceSession on the CPU for a model file (or its bytes), with `threads` intra-op
    threads (None: onnxruntime's default, one per core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    if log_level is not None:
        options.log_severity_level = log_level
    if os.environ.get("ANPR_ORT_SPIN", "0") != "1":
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
