"""Join separately trained plate readers into one ONNX file that runs them all on the same input.

    python -m anpr.train.ensemble --out models build/train-ocr/member-0 build/train-ocr/member-1 ...

Each member folder holds what `python -m anpr.train.ocr --out DIR --work DIR` leaves there: the
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


def main(argv: list[str] | None = None) -> None:
    """Join the members into OUT/plate-reader-crnn.onnx, validate it and write its model card."""
    import json

    import onnx

    from anpr.ocr.crnn import MODEL_NAME, CrnnReader
    from anpr.train.ocr_data import val_items
    from anpr.train.ocr_report import evaluate, write_card
    from anpr.weights import sha256_of

    description = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m anpr.train.ensemble", description=description)
    parser.add_argument("--out", type=Path, default=Path("models"), help="folder for the joined model")
    parser.add_argument("members", type=Path, nargs="+", help="member folders (model + training.json)")
    args = parser.parse_args(argv)
    for folder in args.members:
        for name in (f"{MODEL_NAME}.onnx", "training.json"):
            if not (folder / name).is_file():
                parser.error(f"{folder}: no {name} (train it with --out {folder} --work {folder})")
    target = args.out / f"{MODEL_NAME}.onnx"
    args.out.mkdir(parents=True, exist_ok=True)
    onnx.save(join([folder / f"{MODEL_NAME}.onnx" for folder in args.members]), str(target))
    trainings = [json.loads((folder / "training.json").read_text()) for folder in args.members]
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
