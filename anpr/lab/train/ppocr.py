"""A plate line model fine-tuned from a PaddleOCR text recognizer: PP-OCRv4 (the ONNX file that the
pinned rapidocr-onnxruntime package ships, models/rapidocr; Apache-2.0) or PP-OCRv6 small (from the
pinned rapidocr 3.10.0; BASES).

Our own CRNN learns letters from synthetic plates and about 160 real crops; PP-OCRv4 learnt them
from millions of real text images, and its mistakes differ from the CRNN's. Zero-shot, restricted to
0-9 A-Z, it reads 73.8 % of the held-back plates against the CRNN pair's 84.8 %; averaged with the
CRNN it already reads 89 %. Fine-tuning it on the same line samples as the CRNN
(anpr.lab.train.ocr_data, input anpr.ocr.lines.wide_input) makes it a plate reader.

The ONNX graph becomes a torch module through onnx2torch: constants that are weights become
initializers (trainable convolutions), batch normalisation is folded into a frozen scale and shift
(the usual choice when fine-tuning with small batches), stride-1 SAME_UPPER padding is made
explicit (onnx2torch lacks it), and the Chinese + Latin head (6,625 or 18,710 classes) is replaced
by a linear layer over blank + 0-9 A-Z, initialised from the original head's rows for those
characters, so training starts from the zero-shot reader rather than from scratch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anpr.ocr.crnn import ALPHABET


@dataclass(frozen=True)
class Base:
    """A PaddleOCR recognizer ONNX file a line model is fine-tuned from: its manifest name, the
    tensor holding the (N, T, 120) sequence its head classifies, and the head's weight and bias."""

    weight: str
    features: str
    head_w: str
    head_b: str
    classes: int  # the original head's
    words: str  # what it is, for the model card


# --arch -> base: PP-OCRv4 (rapidocr-onnxruntime 1.4.4, the shipped line models) and PP-OCRv6 small
# (rapidocr 3.10.0; zero-shot it reads 86 of the 112 openalpr-dev training-half text boxes where
# PP-OCRv4 reads 74)
BASES = {
    "ppocr": Base(
        "rapidocr-recognizer",
        "transpose_51.tmp_0",
        "linear_85.w_0",
        "linear_85.b_0",
        6625,
        "PaddleOCR's PP-OCRv4 text recognizer (`models/rapidocr/ch_PP-OCRv4_rec_infer.onnx`, from the"
        " pinned\n`rapidocr-onnxruntime==1.4.4`, Apache-2.0)",
    ),
    "ppocr-v6": Base(
        "rapidocr-v6-recognizer",
        "p2o.pd_op.transpose.8.0",
        "linear_8.w_0",
        "linear_8.b_0",
        18710,
        "PaddleOCR's PP-OCRv6 small text recognizer (`models/rapidocr/PP-OCRv6_rec_small.onnx`, from"
        " the pinned\n`rapidocr==3.10.0`, Apache-2.0)",
    ),
}


def _explicit_same_padding(node) -> None:
    """A stride-1 node padded with auto_pad SAME_UPPER (which onnx2torch does not convert) given
    the same padding as explicit pads: k - 1 in all, the odd one at the end."""
    from onnx import helper

    attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if attributes.get("auto_pad") != b"SAME_UPPER":
        return
    kernel = attributes["kernel_shape"]
    strides = attributes.get("strides", [1] * len(kernel))
    if any(s != 1 for s in strides):
        raise ValueError(f"{node.name}: SAME_UPPER padding with strides {list(strides)} is not supported")
    kept = [a for a in node.attribute if a.name != "auto_pad"]
    del node.attribute[:]
    node.attribute.extend(kept)
    pads = [(k - 1) // 2 for k in kernel] + [k // 2 for k in kernel]
    node.attribute.append(helper.make_attribute("pads", pads))


def _tensors_and_graph(path: str, base: Base):
    """The ONNX model with weight constants as initializers, batch norms folded, cut at the base's
    features; and the original head's weight, bias and character list."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(path)
    characters = next(p.value for p in model.metadata_props if p.key == "character").splitlines()
    constants = {
        n.output[0]: numpy_helper.to_array(n.attribute[0].t)
        for n in model.graph.node
        if n.op_type == "Constant"
    }
    values = constants | {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
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
            mul = values[scale] / np.sqrt(values[var] + eps)
            add = values[bias] - values[mean] * mul
            out = node.output[0]
            for suffix, value in (("/bn_mul", mul), ("/bn_add", add)):
                model.graph.initializer.append(
                    numpy_helper.from_array(value.reshape(1, -1, 1, 1).astype(np.float32), out + suffix)
                )
            nodes.append(helper.make_node("Mul", [x, out + "/bn_mul"], [out + "/bn_scaled"]))
            nodes.append(helper.make_node("Add", [out + "/bn_scaled", out + "/bn_add"], [out]))
            continue
        _explicit_same_padding(node)
        nodes.append(node)
        if base.features in node.output:
            break
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info(base.features, onnx.TensorProto.FLOAT, None))
    return model, values[base.head_w], values[base.head_b], characters


def build_model(base_path: str | None = None, arch: str = "ppocr"):
    """The torch module: the base recognizer's backbone and neck (BASES[arch]), a fresh 37-class
    head; input (N, 3, 48, W) in [-1, 1], output (N, W / 8, 37) log-probabilities, class 0 the CTC
    blank."""
    import torch
    from onnx2torch import convert
    from torch import nn

    from anpr.weights import weight_path

    base = BASES[arch]
    graph, weight, bias, characters = _tensors_and_graph(str(base_path or weight_path(base.weight)), base)
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
        raise ValueError(f"{path}: not a plate line model exported by anpr.lab.train.ppocr")
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


CARD = """# {name}

{base_words} fine-tuned by this project to read one line of plate text,
alphabet 0-9 A-Z. The project's reader (`anpr.ocr.crnn.CrnnReader`) runs it beside the CRNN pair
(`plate-reader-crnn.md`) on the same line strips and averages their probabilities per candidate.

- File: `models/{name}.onnx`, {mb:.2f} MB, SHA-256 `{sha256}`
- Parameters: {params:,} trainable (convolutions and the new head; the attention and normalisation
  constants of the original stay as they were); input `image` (N, 3, 48, 192) float32 in [-1, 1],
  the strip's aspect kept and the rest zero (`anpr.ocr.lines.wide_input`); output `log_probs`
  (N, 24, 37), class 0 the CTC blank
- Licence: Apache-2.0 base model; the fine-tuned weights are distributed with this project under
  AGPL-3.0-or-later (the openalpr-dev training photos are AGPL-3.0)

## How it was made
`anpr.lab.train.ppocr`: the ONNX graph converted to torch with onnx2torch, batch normalisation folded
into a frozen scale and shift, the {classes:,}-class head replaced by blank + 0-9 A-Z initialised from the
original rows for those characters. Trained on the CRNN's line samples (`anpr.lab.train.ocr_data`:
synthetic plates from `anpr.lab.synth` and the real training splits, {real_share:.0%} real), CTC loss,
AdamW, one-cycle learning rate:

`{command}`

{steps_done} batches of {batch} in {train_minutes} minutes on {device_words}.

| batches | loss | its own validation (overall) | openalpr-dev | pk-plates-dev |
| ---: | ---: | ---: | ---: | ---: |
{history_rows}

## {scored_heading}, this model alone
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
    from anpr.lab.train.ocr_report import _percent, kept_notes, member_command, result_tables, scored_heading

    args = result["args"]
    history_rows = "\n".join(
        f"| {h['step']} | {h['loss']} | {_percent(h.get('read/overall'))} | "
        f"{_percent(h.get('read/openalpr-dev'))} | {_percent(h.get('read/pk-plates-dev'))} |"
        for h in result.get("history", [])
    )
    base = BASES[args.get("arch", "ppocr")]
    path.write_text(
        CARD.format(
            **result_tables(result),
            name=path.stem,
            scored_heading=scored_heading(result),
            base_words=base.words,
            classes=base.classes,
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
