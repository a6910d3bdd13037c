"""Train the plate recognizer (anpr.ocr.crnn): CTC on synthetic plates plus the real training splits,
validation on the val splits, checkpoints with resume, ONNX export and the model card.

    python -m anpr.lab.train.ocr --out models --steps 14000 --device cpu

On two shared CPU cores, torch runs one thread (two OpenMP threads stall when another process holds
a core) and a single data worker renders and augments in parallel."""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

import numpy as np

from anpr.lab.datasets import Fold, shared_datasets
from anpr.lab.train.ocr_data import US_DESIGN_SHARE, ValItem, detected_boxes, training_samples, val_items
from anpr.lab.train.ocr_report import VALIDATION_HALF, evaluate, line_accuracy, write_card
from anpr.lab.train.pack import is_packed
from anpr.lab.train.ppocr import BASES
from anpr.lab.train.ppocr import build_model as build_ppocr
from anpr.ocr.crnn import CrnnReader
from anpr.ocr.lines import LINE_H, LINE_W, WIDE_H, WIDE_W, model_input, wide_input
from anpr.settings import environment
from anpr.weights import sha256_of

log = logging.getLogger("anpr.lab.train.ocr")


class Arch(TypedDict):
    name: str  # the ONNX file's name, less .onnx
    prepare: Callable[[np.ndarray], np.ndarray]  # a line strip to the network's input
    shape: tuple[int, int, int]  # the input of one sample: channels, height, width


# --arch: what is trained. "crnn" is the project's own network from scratch (anpr.ocr.crnn);
# "ppocr" fine-tunes PaddleOCR's PP-OCRv4 recognizer, "ppocr-v6" its PP-OCRv6 small one
# (anpr.lab.train.ppocr.BASES). Each has its own input.
ARCHES: dict[str, Arch] = {
    "crnn": {"name": "plate-reader-crnn", "prepare": model_input, "shape": (1, LINE_H, LINE_W)},
    "ppocr": {"name": "plate-reader-ppocr", "prepare": wide_input, "shape": (3, WIDE_H, WIDE_W)},
    "ppocr-v6": {"name": "plate-reader-ppocr-v6", "prepare": wide_input, "shape": (3, WIDE_H, WIDE_W)},
}


# the arguments training.json records (the model card prints the command line back from them)
RECORDED_ARGS = (
    "arch",
    "steps",
    "minutes",
    "batch",
    "lr",
    "real_share",
    "detected_share",
    "tilt",
    "us_designs",
    "folds",
    "hold_fold",
    "seed",
    "device",
    "init",
    "member",
)


def build(arch: str):
    if arch in BASES:
        return build_ppocr(arch=arch)
    from anpr.ocr.crnn import build_model

    return build_model()


def held_fold(recorded: dict) -> Fold | None:
    """The fold of the training half a run holds out, from its arguments (--folds, --hold-fold; as
    training.json records them); None for a run on the whole half, scored on the validation half."""
    index, count = recorded.get("hold_fold"), recorded.get("folds")
    if index is None and count is None:
        return None
    if index is None or count is None:
        raise ValueError("--folds and --hold-fold go together")
    return Fold(index, count)


def scored_on(fold: Fold | None) -> str:
    """What a run's figures are measured on, in words (training.json's "scored_on")."""
    return f"{fold}, held out of this run's training" if fold else VALIDATION_HALF


def worker_seed(seed: int, worker: int) -> int:
    """The sample stream of data process `worker`: seed + 1000 x worker, apart from every other
    process and from the next member's (seed + worker would hand member 1's second process member
    2's first stream). The first process keeps the seed itself, as a one-process run always did."""
    return seed + 1000 * worker


def batches(
    seed: int,
    batch: int,
    real_share: float,
    workers: int,
    arch: str = "crnn",
    detected: dict | None = None,
    detected_share: float = 0.0,
    tilt: float = 0.0,
    us_designs: float = US_DESIGN_SHARE,
    hold: Fold | None = None,
):
    import torch
    from torch.utils.data import DataLoader, IterableDataset, get_worker_info

    class Stream(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            if info:  # one thread per data process: many of them share the cores
                import cv2

                cv2.setNumThreads(1)
            return training_samples(
                worker_seed(seed, info.id if info else 0),
                real_share,
                batch=batch,
                prepare=ARCHES[arch]["prepare"],
                detected=detected,
                detected_share=detected_share,
                tilt=tilt,
                us_designs=us_designs,
                hold=hold,
            )

    def collate(samples):
        images = np.stack([s[0] for s in samples])
        images = torch.from_numpy(images[:, None] if images.ndim == 3 else images)
        labels = torch.tensor([c for s in samples for c in s[1]], dtype=torch.long)
        lengths = torch.tensor([len(s[1]) for s in samples], dtype=torch.long)
        return images, labels, lengths

    return iter(
        DataLoader(
            Stream(),
            batch_size=batch,
            collate_fn=collate,
            num_workers=workers,
            prefetch_factor=4 if workers else None,
            persistent_workers=bool(workers),
        )
    )


def torch_log_probs(model, device: str):
    import torch

    def run(batch: np.ndarray) -> np.ndarray:
        model.eval()
        with torch.no_grad():
            return model(torch.from_numpy(batch).to(device)).cpu().numpy()

    return run


def export_onnx(model, path: Path, arch: str = "crnn") -> None:
    """The model as ONNX with a free batch size. The tracer's warnings about shapes are expected:
    only the batch size varies at run time (the tests run other batch sizes through the file)."""
    import warnings

    import torch

    model.eval().cpu()
    _onnx2torch_opset_shim()
    dummy = torch.zeros(2, *ARCHES[arch]["shape"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            dummy,  # type: ignore[arg-type]  # torch still takes a lone tensor for the args tuple
            str(path),
            input_names=["image"],
            output_names=["log_probs"],
            dynamic_axes={"image": {0: "n"}, "log_probs": {0: "n"}},
            opset_version=17,
            dynamo=False,
        )


def _onnx2torch_opset_shim() -> None:
    """onnx2torch's Shape module asks torch.onnx.symbolic_helper for the opset being exported
    (`GLOBALS`, once `_export_onnx_opset_version`); torch 2.14 keeps that in its TorchScript
    exporter's own globals and no longer exposes either name there, so a converted PP-OCRv4 model
    could not be exported. Point the old name at the new place; nothing changes where it exists."""
    from torch.onnx import symbolic_helper

    if hasattr(symbolic_helper, "GLOBALS") or hasattr(symbolic_helper, "_export_onnx_opset_version"):
        return
    try:
        from torch.onnx._internal.torchscript_exporter._globals import GLOBALS
    except ImportError:  # a torch laid out otherwise: leave it to onnx2torch's own error
        return
    symbolic_helper.GLOBALS = GLOBALS


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (Linux: AVX512-BF16 or AMX-BF16 flags)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def one_cycle(progress: float, peak: float, warmup: float = 0.08) -> float:
    """Learning rate at `progress` (0-1) of training: cosine up from peak/25, then down to ~0."""
    if progress < warmup:
        return peak / 25 + (peak - peak / 25) * (1 - math.cos(math.pi * progress / warmup)) / 2
    return (
        peak * 1e-4 + (peak - peak * 1e-4) * (1 + math.cos(math.pi * (progress - warmup) / (1 - warmup))) / 2
    )


def train(args: argparse.Namespace) -> dict:
    """Train until --steps or --minutes, whichever comes first: the schedule follows whichever is
    further along, so a run on busy shared cores still anneals and ends on time."""
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = work / "checkpoint.pt"
    model = build(args.arch)
    keep_norms = None  # a CRNN member started from a joined file keeps its folded norms
    if args.init and args.arch in BASES:  # train an exported PaddleOCR line model further
        from anpr.lab.train.ppocr import exported_state

        model.load_state_dict(exported_state(model, Path(args.init)))
        log.info("starting from %s", args.init)
    elif args.init:  # fine-tune a member of a committed joined file (its norms stay as they were)
        from anpr.lab.train.ensemble import freeze_norms, member_state

        model.load_state_dict(member_state(Path(args.init), args.member))
        keep_norms = freeze_norms
        log.info("starting from member %d of %s", args.member, args.init)
    model = model.to(args.device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    step, history, seconds = 0, [], 0.0
    if args.resume and checkpoint.is_file():
        state = torch.load(checkpoint, map_location=args.device, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step, history, seconds = state["step"], state["history"], state["seconds"]
        log.info("resumed at step %d after %.1f minutes", step, seconds / 60)
    fold = held_fold(vars(args))
    items = val_items(fold)
    if fold:
        log.info(
            "holding out %s (%d plates): every score of this run is on it, not the validation half",
            fold,
            len(items),
        )
    elif not items:
        log.info("no held-back validation half here: training unvalidated (run --report-only where it is)")
    detected = None
    if args.detected_share > 0 and is_packed(shared_datasets()):
        raise SystemExit("error: --detected-share needs the whole photos; these sets are a pack")
    if args.detected_share > 0:
        cached = work / "detected-train.json"
        if not cached.is_file():
            log.info("finding the training photos' plates with the shipped detectors")
            cached.write_text(json.dumps(detected_boxes("train")))
        detected = json.loads(cached.read_text())
    stream = batches(
        args.seed + step,
        args.batch,
        args.real_share,
        args.workers,
        args.arch,
        detected,
        args.detected_share,
        args.tilt,
        args.us_designs,
        fold,
    )
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    started, losses = time.time() - seconds, []

    def progress() -> float:
        return max(step / args.steps, (time.time() - started) / (60 * args.minutes))

    while progress() < 1:
        model.train()
        if keep_norms:
            keep_norms(model)
        for group in optimiser.param_groups:
            group["lr"] = one_cycle(progress(), args.lr)
        images, labels, lengths = next(stream)
        with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.bf16):
            logp = model(images.to(args.device))
        steps_in = torch.full((logp.shape[0],), logp.shape[1], dtype=torch.long)
        loss = ctc(logp.permute(1, 0, 2), labels.to(args.device), steps_in, lengths)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        losses.append(loss.item())
        step += 1
        if step % 100 == 0:
            log.info("step %d loss %.3f progress %.3f", step, np.mean(losses[-100:]), progress())
        if step % args.val_every == 0 or progress() >= 1:
            seconds = time.time() - started
            if items:
                history.append(validate(model, args, items, step, float(np.mean(losses)), seconds))
            losses = []
            state = {"model": model.state_dict(), "optimiser": optimiser.state_dict(), "step": step}
            torch.save(state | {"history": history, "seconds": seconds}, checkpoint)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    export_onnx(model, Path(args.out) / f"{ARCHES[args.arch]['name']}.onnx", args.arch)
    training = {
        "params": sum(p.numel() for p in model.parameters()),
        "train_minutes": round((time.time() - started) / 60, 1),
        "steps_done": step,
        "history": history,
        "scored_on": scored_on(fold),
        "args": {k: getattr(args, k) for k in RECORDED_ARGS},
    }
    (work / "training.json").write_text(json.dumps(training, indent=1))
    return report(args) if items else training


def report(args: argparse.Namespace) -> dict:
    """Evaluate the exported ONNX model in --out on the val splits (or on the fold its training
    held out, as training.json records it); write result.json and the card."""
    name, prepare = ARCHES[args.arch]["name"], ARCHES[args.arch]["prepare"]
    onnx_path = Path(args.out) / f"{name}.onnx"
    training = json.loads((Path(args.work) / "training.json").read_text())
    fold = held_fold(training["args"])
    if held_fold(vars(args)) not in (None, fold):  # a fold run's score is on its own fold only
        raise SystemExit(
            f"error: this model was trained holding out {fold or 'no fold'}, not {held_fold(vars(args))}"
        )
    result = evaluate(CrnnReader(onnx_path, threads=1, prepare=prepare), val_items(fold))
    result["scored_on"] = scored_on(fold)
    result |= training | {"sha256": sha256_of(onnx_path), "bytes": onnx_path.stat().st_size}
    (Path(args.work) / "result.json").write_text(json.dumps(result, indent=1))
    if args.arch == "crnn":
        write_card(result, Path(args.out) / f"{name}.md", [training])
    else:
        from anpr.lab.train import ppocr

        ppocr.write_card(result, Path(args.out) / f"{name}.md")
    return result


def validate(model, args, items: list[ValItem], step: int, loss: float, seconds: float) -> dict:
    log_probs, prepare = torch_log_probs(model, args.device), ARCHES[args.arch]["prepare"]
    row = {"step": step, "loss": round(loss, 4), "minutes": round(seconds / 60, 1)}
    for name in ("openalpr-dev", "pk-plates-dev"):
        chosen = [i for i in items if i.source.startswith(name)]
        row[f"lines/{name}"] = round(line_accuracy(log_probs, chosen, prepare), 4)
    full = evaluate(CrnnReader(log_probs=log_probs, prepare=prepare), items)["accuracy"]
    row |= {f"read/{k}": v["exact"] for k, v in full.items() if "/" not in k}
    log.info("%s", json.dumps(row))
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m anpr.lab.train.ocr", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="models", help="folder for the ONNX model")
    parser.add_argument("--arch", choices=sorted(ARCHES), default="crnn", help="network to train")
    parser.add_argument(
        "--work",
        default=str(environment().train_dir),
        help="checkpoints and result.json",
    )
    parser.add_argument("--steps", type=int, default=30000, help="at most this many batches")
    parser.add_argument("--minutes", type=float, default=70, help="at most this much wall time")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--real-share", type=float, default=0.3, help="share of samples from real crops")
    parser.add_argument(
        "--detected-share",
        type=float,
        default=0.0,
        help="share of openalpr training draws cut where the shipped detectors box the plate"
        " (with the pipeline's margin) rather than around the labelled text box",
    )
    parser.add_argument(
        "--tilt",
        type=float,
        default=0.0,
        help="spread (degrees) of an extra rotation of every training crop in its box; 0 for none",
    )
    parser.add_argument(
        "--us-designs",
        type=float,
        default=US_DESIGN_SHARE,
        help="share of synthetic plates from the US designs of issue #28 (state and slogan lines,"
        " frames, vanity and stacked plates, 60-130 px wide); 0 for the stream as before them",
    )
    parser.add_argument(
        "--folds",
        type=int,
        help="with --hold-fold: split the training half into this many folds (anpr.lab.datasets.folds_of)",
    )
    parser.add_argument(
        "--hold-fold",
        type=int,
        help="leave this fold (1 to --folds) of the real training half out of training and score the run"
        " on it instead of the validation half (training.json's scored_on says so); for decisions",
    )
    parser.add_argument("--val-every", type=int, default=1000)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 on shared cores)")
    parser.add_argument("--workers", type=int, default=1, help="data processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--init",
        help="start from trained weights: a joined CRNN file (models/plate-reader-crnn.onnx, with"
        " --member) or, with --arch ppocr or ppocr-v6, an exported line model of that arch"
        " (models/plate-reader-ppocr.onnx)",
    )
    parser.add_argument("--member", type=int, default=0, help="with --init: which member to start from")
    parser.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bfloat16 autocast in training; by default only on CPUs with native bfloat16 (AVX512-BF16"
        " or AMX: about 1.8x faster there, ten times slower where it is emulated)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --work")
    parser.add_argument(
        "--report-only", action="store_true", help="re-evaluate the model in --out, rewrite the card"
    )
    args = parser.parse_args(argv)
    try:
        held_fold(vars(args))
    except ValueError as exc:
        parser.error(str(exc))
    if args.bf16 is None:
        args.bf16 = args.device != "cpu" or native_bf16()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    result = report(args) if args.report_only else train(args)
    keys = ("accuracy", "reliability", "plates_per_second", "sha256")
    print(json.dumps({k: result[k] for k in keys if k in result}, indent=1))


if __name__ == "__main__":
    main()
