"""Join separately trained plate readers into one ONNX file that runs them all on the same input.

    python -m anpr.lab.train.ensemble --out models build/train-ocr/member-0 build/train-ocr/member-1 ...

Each member folder holds what `python -m anpr.lab.train.ocr --out DIR --work DIR` leaves there: the
exported model (input `image` (N, 1, 32, 128), output `log_probs` (N, T, C)) and training.json.
The joined file has the same input and `log_probs` (N, members, T, C); CrnnReader scores each line's
candidates by their probability averaged over the members (anpr.ocr.crnn.pooled_line). Members
trained from different seeds make different mistakes, so the average misreads less."""

from __future__ import annotations

import argparse
from pathlib import Path

INPUT, OUTPUT = "image", "log_probs"


def join(paths: list[Path]):
    """One onnx.ModelProto running every member on the shared input, outputs stacked on axis 1."""
    import onnx
    from onnx import compose, helper

    members = [onnx.load(str(path)) for path in paths]
    opset = max(op.version for m in members for op in m.opset_import if op.domain in ("", "ai.onnx"))
    nodes, initializers, stacked = [], [], []
    axes = helper.make_tensor("member_axis", onnx.TensorProto.INT64, [1], [1])
    initializers.append(axes)
    for index, member in enumerate(members):
        names = [i.name for i in member.graph.input]
        outputs = [o.name for o in member.graph.output]
        if names != [INPUT] or outputs != [OUTPUT]:
            raise ValueError(f"{paths[index]}: expected input {INPUT!r} and output {OUTPUT!r}")
        graph = compose.add_prefix(member, f"m{index}/").graph
        for node in graph.node:
            node.input[:] = [INPUT if name == f"m{index}/{INPUT}" else name for name in node.input]
        nodes.extend(graph.node)
        initializers.extend(graph.initializer)
        nodes.append(helper.make_node("Unsqueeze", [f"m{index}/{OUTPUT}", "member_axis"], [f"m{index}/one"]))
        stacked.append(f"m{index}/one")
    nodes.append(helper.make_node("Concat", stacked, [OUTPUT], axis=1))
    first = members[0].graph
    out_type = first.output[0].type.tensor_type
    dims = [d.dim_param or d.dim_value for d in out_type.shape.dim]
    graph = helper.make_graph(
        nodes,
        "plate-reader-ensemble",
        [first.input[0]],
        [helper.make_tensor_value_info(OUTPUT, out_type.elem_type, [dims[0], len(members), *dims[1:]])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = min(m.ir_version for m in members)
    onnx.checker.check_model(model)
    return model


def member_state(path: Path, member: int) -> dict:
    """A torch state dict for anpr.ocr.crnn.build_model() holding member `member` of a joined file
    (the inverse of join and of the ONNX export): each convolution with its batch norm folded in
    (the norm an identity whose shift is the folded bias), the LSTM gates put back in torch's order
    and the classifier transposed. Fine-tuning from it should keep the norms frozen (freeze_norms)."""
    import onnx
    import torch
    from onnx import numpy_helper

    from anpr.ocr.crnn import build_model

    graph = onnx.load(str(path)).graph
    prefix = f"m{member}/"
    weights = {
        i.name[len(prefix) :]: torch.from_numpy(numpy_helper.to_array(i).copy())
        for i in graph.initializer
        if i.name.startswith(prefix)
    }
    if not weights:
        raise ValueError(f"{path}: no member {member}")
    model = build_model()
    state = model.state_dict()
    convs = [(n, w) for n, w in weights.items() if n.startswith("onnx::Conv_")]
    convs.sort(key=lambda item: int(item[0].rsplit("_", 1)[1]))
    layers = [n[: -len(".weight")] for n in state if n.startswith("features.") and n.endswith(".weight")]
    conv_layers, norm_layers = layers[0::2], layers[1::2]
    for k, (conv, norm) in enumerate(zip(conv_layers, norm_layers, strict=True)):
        weight, bias = convs[2 * k][1], convs[2 * k + 1][1]
        state[f"{conv}.weight"] = weight
        eps = dict(model.named_modules())[norm].eps
        state[f"{norm}.weight"] = torch.ones_like(bias)
        state[f"{norm}.bias"] = bias
        state[f"{norm}.running_mean"] = torch.zeros_like(bias)
        state[f"{norm}.running_var"] = torch.full_like(bias, 1 - eps)
    lstm = sorted((n for n in weights if n.startswith("onnx::LSTM_")), key=lambda n: int(n.rsplit("_", 1)[1]))
    bias, w_input, w_hidden = (weights[n] for n in lstm)  # B (2, 8H), W (2, 4H, in), R (2, 4H, H)
    hidden = w_hidden.shape[-1]
    order = torch.cat([torch.arange(g * hidden, (g + 1) * hidden) for g in (0, 2, 3, 1)])  # iofc -> ifco
    for direction, suffix in ((0, ""), (1, "_reverse")):
        state[f"rnn.weight_ih_l0{suffix}"] = w_input[direction][order]
        state[f"rnn.weight_hh_l0{suffix}"] = w_hidden[direction][order]
        state[f"rnn.bias_ih_l0{suffix}"] = bias[direction][: 4 * hidden][order]
        state[f"rnn.bias_hh_l0{suffix}"] = bias[direction][4 * hidden :][order]
    matmul = next(n for n in weights if n.startswith("onnx::MatMul_"))
    state["classifier.weight"] = weights[matmul].T.contiguous()
    state["classifier.bias"] = weights["classifier.bias"]
    return state


def freeze_norms(model) -> None:
    """Batch norms in inference mode with fixed parameters: a model started from member_state keeps
    its folded statistics (small fine-tuning batches would otherwise re-estimate them)."""
    from torch import nn

    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()
            for parameter in module.parameters():
                parameter.requires_grad_(False)


def main(argv: list[str] | None = None) -> None:
    """Join the members into OUT/plate-reader-crnn.onnx, validate it and write its model card."""
    import json

    import onnx

    from anpr.lab.train.ocr_data import val_items
    from anpr.lab.train.ocr_report import evaluate, write_card
    from anpr.ocr.crnn import MODEL_NAME, CrnnReader
    from anpr.weights import sha256_of

    description = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m anpr.lab.train.ensemble", description=description)
    parser.add_argument("--out", type=Path, default=Path("models"), help="folder for the joined model")
    parser.add_argument("members", type=Path, nargs="+", help="member folders (model + training.json)")
    args = parser.parse_args(argv)
    for folder in args.members:
        for name in (f"{MODEL_NAME}.onnx", "training.json"):
            if not (folder / name).is_file():
                parser.error(f"{folder}: no {name} (train it with --out {folder} --work {folder})")
    trainings = [json.loads((folder / "training.json").read_text()) for folder in args.members]
    for folder, training in zip(args.members, trainings, strict=True):
        if training["args"].get("hold_fold"):  # joining would read the validation half for a fold decision
            parser.error(f"{folder}: trained holding out a fold, for decisions on folds; not joined")
    target = args.out / f"{MODEL_NAME}.onnx"
    args.out.mkdir(parents=True, exist_ok=True)
    onnx.save(join([folder / f"{MODEL_NAME}.onnx" for folder in args.members]), str(target))
    result = evaluate(CrnnReader(target, threads=1), val_items())
    result |= {
        "params": sum(t["params"] for t in trainings),
        "sha256": sha256_of(target),
        "bytes": target.stat().st_size,
    }
    write_card(result, args.out / f"{MODEL_NAME}.md", trainings)
    overall = result["accuracy"]["overall"]["exact"]
    print(f"{target}: {len(trainings)} members, {target.stat().st_size / 1e6:.2f} MB, {overall:.1%} exact")


if __name__ == "__main__":
    main()
