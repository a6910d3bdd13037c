"""Validation of the plate recognizer on the held-back splits, and its model card."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from anpr.lab.train.ocr_data import ValItem
from anpr.ocr.crnn import CrnnReader, greedy_decode
from anpr.ocr.lines import hypotheses_inputs, model_input
from anpr.types import PlateRead

CONFIDENCE_BINS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0001)

CARD = """# plate-reader-crnn

The project's own number-plate text recognizer: {member_words} (6 conv layers, BiLSTM, CTC) that
reads one line of plate text from a 32x128 grey image, alphabet 0-9 A-Z. `anpr.ocr.crnn.CrnnReader`
runs it with onnxruntime (no torch) and handles two-line plates (anpr.ocr.lines): each crop is read
whole and cut into its two lines; every candidate of both layouts (CTC beam, top 5 per line{pooling})
is scored model probability x format prior (anpr.plates.formats) and the best registration wins.
Pakistani two-line plates give `text` (series + number) and `year`. Confidence: the winner's share
of the scored probability mass (low means "send to a human"; see the reliability table).

- File: `models/plate-reader-crnn.onnx`, {mb:.2f} MB, SHA-256 `{sha256}`
- Parameters: {params:,}; input `image` (N, 1, 32, 128) float32, each image standardised (zero mean,
  unit standard deviation, floor 8 grey levels); output `log_probs` {output_shape}, class 0 the CTC blank
- Licence: AGPL-3.0-or-later (trained by this project; the openalpr-dev training photos are AGPL-3.0)

## Data
- Synthetic plates from `anpr.lab.synth` (its default style mix: about 60 % Pakistani, 24 % two-line,
  US, EU, Brazil), rendered on the fly into a pool of up to 12,000 plates refreshed 4 per batch.
- Real training splits (`anpr.lab.datasets`, split == "train" only): openalpr-dev photos cropped by the
  labelled box grown at random (-3 % to +12 % sideways, -4 % to +18 % vertically, as a detector's box),
  pk-plates-dev crops padded or trimmed at random. Real crops are {real_share:.0%} of the samples.
- Two-line plates give two samples, their top and bottom strips, cut where the reader cuts them.
- Half the one-line synthetic plates are cut to their text line (openalpr-dev labels box the text).
- Augmentation: rotation, shear, scale, bolts and rivets, thicker or thinner strokes, resolution loss,
  blur, motion blur, contrast, gamma, noise, JPEG, inverted polarity (5 %).

## Recipe
AdamW (weight decay 1e-4), one-cycle learning rate (cosine, 8 % warm-up) over at most `--steps`
batches or `--minutes` minutes, whichever ends first (the schedule follows the one further along),
gradient clip 5, CTC loss, bfloat16 autocast where the CPU has it natively. Trained on CPU (1 torch
thread + 1 data process, two cores shared with other jobs). `make train-ocr` runs these commands{join_words}:

| member | batches done | minutes | its own validation (overall) | command |
| --- | ---: | ---: | ---: | --- |
{member_rows}

## {scored_heading}
Exact read: text equal to the label and, for a Pakistani plate with a printed year, the year too.
openalpr-dev crops are the labelled boxes; pk-plates-dev crops are the files. Each set is read with
its region hint (us, eu, br, pk), as `anpr bench` does; with region "auto" everywhere the overall
figure is {auto_percent}. "Labels corrected" scores against what the photo shows where a published
label is plainly wrong (`anpr.lab.datasets.OPENALPR_ERRATA`, 3 of the 110 held-back openalpr-dev labels).

| set | plates | exact | labels corrected |
| --- | ---: | ---: | ---: |
{rows}

Reliability (confidence of the chosen read vs exact-read accuracy):

| confidence | plates | exact |
| --- | ---: | ---: |
{bins}

Speed: {plates_per_second} plates/s on one CPU thread (onnxruntime, batched, shared machine; three
model inputs per plate).

Misreads:

| set | truth | read | confidence |
| --- | --- | --- | ---: |
{misread_rows}

{notes}
"""


def is_exact(read, item: ValItem, corrected: bool = False) -> bool:
    """Text right, and for a Pakistani plate with a printed year, the year right too; against the
    published label, or with `corrected` against what the plate shows (anpr.lab.datasets.OPENALPR_ERRATA)."""
    truth = (item.printed or item.text) if corrected else item.text
    return read.text == truth and (item.year is None or read.year == item.year)


def line_accuracy(log_probs, items: list[ValItem], prepare=model_input) -> float:
    """Share of plates whose lines the model reads exactly when told the layout: the model alone,
    without the layout choice or the format prior."""
    good = 0
    for item in items:
        inputs = hypotheses_inputs(item.crop, prepare)
        chosen = np.stack(inputs[:1] if len(item.lines) == 1 else inputs[1:]).astype(np.float32)
        logp = log_probs(chosen[:, None] if chosen.ndim == 3 else chosen)
        good += tuple(greedy_decode(row)[0] for row in logp) == item.lines
    return good / max(1, len(items))


def read_all(reader: CrnnReader, items: list[ValItem], auto: bool = False) -> list:
    """Reads of all items, each with its set's region hint (as `anpr bench` gives it) or "auto"."""
    reads: list[PlateRead | None] = [None] * len(items)
    for region in {"auto"} if auto else {item.region for item in items}:
        chosen = [k for k, item in enumerate(items) if auto or item.region == region]
        for k, read in zip(chosen, reader.read_batch([items[k].crop for k in chosen], region), strict=True):
            reads[k] = read
    return reads


def evaluate(reader: CrnnReader, items: list[ValItem]) -> dict:
    """Exact-read accuracy per set and overall (region hint given, and "auto"), a reliability table,
    the misreads, plates/s."""
    start = time.perf_counter()
    reads = read_all(reader, items)
    seconds = time.perf_counter() - start
    auto = [
        is_exact(read, item) for read, item in zip(read_all(reader, items, auto=True), items, strict=True)
    ]
    sets: dict[str, list[tuple[bool, bool]]] = {}
    for item, read in zip(items, reads, strict=True):
        exact = (is_exact(read, item), is_exact(read, item, corrected=True))
        for name in {item.source, item.source.split("/")[0], "overall"}:
            sets.setdefault(name, []).append(exact)
    bins = []
    for lo, hi in zip(CONFIDENCE_BINS, CONFIDENCE_BINS[1:], strict=False):
        inside = [is_exact(r, i) for r, i in zip(reads, items, strict=True) if lo <= r.confidence < hi]
        bins.append(
            {
                "confidence": f"{lo:.2f}-{min(hi, 1.0):.2f}",
                "plates": len(inside),
                "accuracy": round(sum(inside) / len(inside), 3) if inside else None,
            }
        )
    misreads = [
        {
            "source": i.source,
            "truth": f"{i.text} {i.year or ''}".strip()
            + (f" (photo shows {i.printed})" if i.printed and i.printed != i.text else ""),
            "read": f"{r.text} {r.year or ''}".strip(),
            "confidence": round(r.confidence, 3),
            "layout": r.layout,
        }
        for r, i in zip(reads, items, strict=True)
        if not is_exact(r, i)
    ]
    return {
        "accuracy": {
            name: {
                "exact": round(sum(e for e, _ in v) / len(v), 4),
                "plates": len(v),
                "exact_corrected": round(sum(c for _, c in v) / len(v), 4),
            }
            for name, v in sorted(sets.items())
        },
        "reliability": bins,
        "misreads": misreads,
        "plates_per_second": round(len(items) / seconds, 1),
        "overall_region_auto": round(sum(auto) / len(auto), 4),
    }


# What a run is scored on unless it held a fold of the training half out (training.json's "scored_on").
VALIDATION_HALF = "the validation half"


def scored_heading(result: dict, heading: str = "Validation (held-back splits, never trained on)") -> str:
    """The card's heading over its measured figures: `heading` for the validation half; for a run
    scored on a held-out fold, one that no reader can take for a validation figure."""
    scored_on = result.get("scored_on", VALIDATION_HALF)
    return heading if scored_on == VALIDATION_HALF else f"Scored on {scored_on}: NOT the validation half"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def member_command(training: dict) -> str:
    """The command line that trained one member (its recorded arguments)."""
    args = argparse.Namespace(**training["args"])
    arch = getattr(args, "arch", "crnn")
    init = ""
    if getattr(args, "init", None):  # --member picks a CRNN member; a PP-OCRv4 file has one network
        init = f" --init {args.init}" + (f" --member {args.member}" if arch == "crnn" else "")
    detected = getattr(args, "detected_share", 0.0)
    detected = f" --detected-share {detected}" if detected else ""
    tilt = getattr(args, "tilt", 0.0)
    detected += f" --tilt {tilt}" if tilt else ""
    detected += f" --us-designs {getattr(args, 'us_designs', 0.0)}"  # earlier runs: 0
    if getattr(args, "hold_fold", None):
        detected += f" --folds {args.folds} --hold-fold {args.hold_fold}"
    return (
        f"python -m anpr.lab.train.ocr{f' --arch {arch}' if arch != 'crnn' else ''} --out OUT "
        f"--steps {args.steps} --minutes {getattr(args, 'minutes', None)} --batch {args.batch} "
        f"--lr {args.lr} --real-share {args.real_share}"
        f"{detected} --seed {args.seed} --device {args.device}{init}"
    )


def kept_notes(path: Path) -> str:
    """The hand-written '## Notes' section of an existing card (kept when the card is rewritten)."""
    if path.is_file() and "\n## Notes" in path.read_text():
        return "## Notes" + path.read_text().split("\n## Notes", 1)[1]
    return ""


def result_tables(result: dict) -> dict[str, str]:
    """The card's measured tables as Markdown rows: `rows` (exact reads per set), `bins`
    (reliability) and `misread_rows`."""
    return {
        "rows": "\n".join(
            f"| {name} | {v['plates']} | {100 * v['exact']:.1f} % | {_percent(v.get('exact_corrected'))} |"
            for name, v in result["accuracy"].items()
        ),
        "bins": "\n".join(
            f"| {b['confidence']} | {b['plates']} | {_percent(b['accuracy'])} |"
            for b in result["reliability"]
        ),
        "misread_rows": "\n".join(
            f"| {m['source']} | {m['truth']} | {m['read']} | {m['confidence']} |" for m in result["misreads"]
        )
        or "| - | - | - | - |",
    }


def write_card(result: dict, path: Path, members: list[dict]) -> None:
    """The model card: measured numbers from `result`, how each member (its training.json) was
    trained; a hand-written '## Notes' section already in the card is kept."""
    member_rows = "\n".join(
        f"| {k + 1} | {m.get('steps_done', '-')} | {m.get('train_minutes', '-')} | "
        f"{_percent(m['history'][-1].get('read/overall')) if m.get('history') else '-'} | "
        f"`{member_command(m)}` |"
        for k, m in enumerate(members)
    )
    many = len(members) > 1
    path.write_text(
        CARD.format(
            **result,
            **result_tables(result),
            member_rows=member_rows,
            member_words=f"an ensemble of {len(members)} CRNNs" if many else "a CRNN",
            pooling=", scored by the members' mean probability" if many else "",
            output_shape=f"(N, {len(members)}, 32, 37), one row per member" if many else "(N, 32, 37)",
            join_words=(
                " (each member with its own seed, `--out` a folder per member), then "
                "`python -m anpr.lab.train.ensemble` joins them into the one file"
                if many
                else ""
            ),
            real_share=members[0]["args"]["real_share"],
            mb=result["bytes"] / 1e6,
            notes=kept_notes(path),
            auto_percent=_percent(result.get("overall_region_auto")),
            scored_heading=scored_heading(result),
        )
    )
