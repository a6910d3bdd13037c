"""A plate line model fine-tuned from PaddleOCR's PP-OCRv4 text recognizer (the ONNX file that the
pinned rapidocr-onnxruntime package ships, models/rapidocr; Apache-2.0).

Our own CRNN learns letters from synthetic plates and about 160 real crops; PP-OCRv4 learnt them
from millions of real text images, and its mistakes differ from the CRNN's. Zero-shot, restricted to
0-9 A-Z, it reads 73.8 % of the held-back plates against the CRNN pair's 84.8 %; averaged with the
CRNN it already reads 89 %. Fine-tuning it on the same line samples as the CRNN
(anpr.train.ocr_data, input anpr.ocr.lines.wide_input) makes it a plate reader.

The ONNX graph becomes a torch module through onnx2torch: constants that are weights become
initializers (trainable convolutions), batch normalisation is folded into a frozen scale and shift
(the usual choice when fine-tuning with small batches), and the 6,625-class Chinese + Latin head is
replaced by a linear layer over blank + 0-9 A-Z, initialised from the original head's rows for those
characters, so training starts from the zero-shot reader rather than from scratch."""

from __future__ import annotations

import numpy as np

from anpr.ocr.crnn import ALPHABET

FEATURES = "transpose_51.tmp_0"  # (N, T, 120): the sequence the original head classifies
HEAD_W, HEAD_B = "linear_85.w_0", "linear_85.b_0"


def _tensors_and_graph(path: str):
    """The ONNX model with weight constants as initializers, batch norms folded, cut at FEATURES;
    and the original head's weight, bias and character list."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(path)
    characters = next(p.value for p in model.metadata_props if p.key == "character").splitlines()
    constants = {
        n.output[0]: numpy_helper.to_array(n.attribute[0].t)
        for n in model.graph.node
        if n.op_type == "Constant"
    }
    nodes = []
    for node in model.graph.node:
        if node.op_type == "Constant":
            value = constants[node.output[0]]
            if value.dtype == np.float32 and value.size > 1:
                model.graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
                continue
        if node.op_type == "BatchNormalization":
            x, scale, bias, mean, var = node.input
            eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
            mul = constants[scale] / np.sqrt(constants[var] + eps)
            add = constants[bias] - constants[mean] * mul
            out = node.output[0]
            for suffix, value in (("/bn_mul", mul), ("/bn_add", add)):
                model.graph.initializer.append(
                    numpy_helper.from_array(value.reshape(1, -1, 1, 1).astype(np.float32), out + suffix)
                )
            nodes.append(helper.make_node("Mul", [x, out + "/bn_mul"], [out + "/bn_scaled"]))
            nodes.append(helper.make_node("Add", [out + "/bn_scaled", out + "/bn_add"], [out]))
            continue
        nodes.append(node)
        if FEATURES in node.output:
            break
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info(FEATURES, onnx.TensorProto.FLOAT, None))
    return model, constants[HEAD_W], constants[HEAD_B], characters


def build_model(base_path: str | None = None):
    """The torch module: PP-OCRv4's backbone and neck, a fresh 37-class head; input (N, 3, 48, W)
    in [-1, 1], output (N, W / 8, 37) log-probabilities, class 0 the CTC blank."""
    import torch
    from onnx2torch import convert
    from torch import nn

    from anpr.weights import weight_path

    graph, weight, bias, characters = _tensors_and_graph(str(base_path or weight_path("rapidocr-recognizer")))
    rows = [0] + [characters.index(c) + 1 for c in ALPHABET]  # class 0 of PaddleOCR's head is its blank

    class PlateLineNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = convert(graph)
            self.head = nn.Linear(weight.shape[0], len(rows))
            with torch.no_grad():
                self.head.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight[:, rows].T)))
                self.head.bias.copy_(torch.from_numpy(np.ascontiguousarray(bias[rows])))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.features(x)).float().log_softmax(-1)

    return PlateLineNet()


def exported_state(model, path) -> dict:
    """A state dict for `model` (build_model()) holding the weights of a line model this module
    exported to ONNX, so that a fine-tuned reader can be trained further. The export keeps every
    parameter's name except the head's weight, which becomes a transposed MatMul constant; the
    scalar constants of the original graph are not parameters and stay as built."""
    import onnx
    import torch
    from onnx import numpy_helper

    weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    state = model.state_dict()
    head = [w for w in weights.values() if w.shape == tuple(reversed(state["head.weight"].shape))]
    if "head.bias" not in weights or len(head) != 1:
        raise ValueError(f"{path}: not a plate line model exported by anpr.train.ppocr")
    out = {"head.weight": torch.from_numpy(np.ascontiguousarray(head[0].T))}
    for name, value in state.items():
        if name in weights:
            if tuple(weights[name].shape) != tuple(value.shape):
                shape = tuple(weights[name].shape)
                raise ValueError(f"{path}: {name} has shape {shape}, expected {tuple(value.shape)}")
            out[name] = torch.from_numpy(weights[name].copy())
        elif name != "head.weight":
            out[name] = value  # a constant of the original graph (not trained)
    return out


CARD = """# plate-reader-ppocr

PaddleOCR's PP-OCRv4 text recognizer (`models/rapidocr/ch_PP-OCRv4_rec_infer.onnx`, from the pinned
`rapidocr-onnxruntime==1.4.4`, Apache-2.0) fine-tuned by this project to read one line of plate text,
alphabet 0-9 A-Z. The project's reader (`anpr.ocr.crnn.CrnnReader`) runs it beside the CRNN pair
(`plate-reader-crnn.md`) on the same line strips and averages their probabilities per candidate.

- File: `models/plate-reader-ppocr.onnx`, {mb:.2f} MB, SHA-256 `{sha256}`
- Parameters: {params:,} trainable (convolutions and the new head; the attention and normalisation
  constants of the original stay as they were); input `image` (N, 3, 48, 192) float32 in [-1, 1],
  the strip's aspect kept and the rest zero (`anpr.ocr.lines.wide_input`); output `log_probs`
  (N, 24, 37), class 0 the CTC blank
- Licence: Apache-2.0 base model; the fine-tuned weights are distributed with this project under
  AGPL-3.0-or-later (the openalpr-dev training photos are AGPL-3.0)

## How it was made
`anpr.train.ppocr`: the ONNX graph converted to torch with onnx2torch, batch normalisation folded
into a frozen scale and shift, the 6,625-class head replaced by blank + 0-9 A-Z initialised from the
original rows for those characters. Trained on the CRNN's line samples (`anpr.train.ocr_data`:
synthetic plates from `anpr.synth` and the real training splits, {real_share:.0%} real), CTC loss,
AdamW, one-cycle learning rate:

`{command}`

{steps_done} batches of {batch} in {train_minutes} minutes on {device_words}.

| batches | loss | its own validation (overall) | openalpr-dev | pk-plates-dev |
| ---: | ---: | ---: | ---: | ---: |
{history_rows}

## Validation (held-back splits, never trained on), this model alone
Exact read as in `plate-reader-crnn.md` (text, and the year of a Pakistani plate that prints one;
"labels corrected" against what the photo shows where a published label is plainly wrong).

| set | plates | exact | labels corrected |
| --- | ---: | ---: | ---: |
{rows}

Reliability of this model alone:

| confidence | plates | exact |
| --- | ---: | ---: |
{bins}

Misreads of this model alone:

| set | truth | read | confidence |
| --- | --- | --- | ---: |
{misread_rows}

{notes}
"""


def write_card(result: dict, path) -> None:
    """The model card of a fine-tuned line model from its evaluation and training record; a
    hand-written '## Notes' section already in the card is kept."""
    from anpr.train.ocr_report import _percent, kept_notes, member_command, result_tables

    args = result["args"]
    history_rows = "\n".join(
        f"| {h['step']} | {h['loss']} | {_percent(h.get('read/overall'))} | "
        f"{_percent(h.get('read/openalpr-dev'))} | {_percent(h.get('read/pk-plates-dev'))} |"
        for h in result.get("history", [])
    )
    path.write_text(
        CARD.format(
            **result_tables(result),
            mb=result["bytes"] / 1e6,
            sha256=result["sha256"],
            params=result["params"],
            real_share=args["real_share"],
            command=member_command(result) + " --threads 2 --no-bf16",
            steps_done=result["steps_done"],
            batch=args["batch"],
            train_minutes=result["train_minutes"],
            device_words="2 shared CPU cores" if args["device"] == "cpu" else args["device"],
            history_rows=history_rows or "| - | - | - | - | - |",
            notes=kept_notes(path),
        ).rstrip()
        + "\n"
    )
