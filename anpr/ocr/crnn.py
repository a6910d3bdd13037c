"""The project's own plate recognizer: line models trained with CTC on plate text lines, read
together. A compact CRNN trained from scratch (32x128 grey) and PP-OCRv4 fine-tuned on plates (48x192,
anpr.lab.train.ppocr), both exported to ONNX, and PaddleOCR's PP-OCRv6 small recognizer as shipped, its
characters folded into the plate alphabet (folded_log_probs).

`build_model()` is the CRNN's torch definition (training only); `CrnnReader` runs the exported ONNX
files through onnxruntime and needs no torch. A plate is read as one line and, cut at the gap between
its lines, as two; the hypothesis with the better confidence times format prior wins
(anpr.ocr.lines)."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from anpr.ocr.base import PlateReader
from anpr.ocr.level import Leveller
from anpr.ocr.lines import choose_read, could_be_two_line, hypotheses_strips, model_input, wide_input
from anpr.types import PlateRead

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # class 0 is the CTC blank, class i is ALPHABET[i-1]
MODEL_NAME = "plate-reader-crnn"
TOP_K = 5

# (N, C, H, W) float32 -> (N, T, len(ALPHABET) + 1) log-probabilities
LogProbFn = Callable[[np.ndarray], np.ndarray]


def build_model(hidden: int = 64):
    """The torch CRNN: six 3x3 conv layers (stride 4 in width: 32 steps for 128 px), a BiLSTM and a
    linear classifier. About 0.42 M parameters."""
    import torch
    from torch import nn

    def conv(cin: int, cout: int, kernel=3, padding=1) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cout, kernel, padding=padding, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]

    class Crnn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                *conv(1, 16),
                nn.MaxPool2d(2),  # 16 x 64
                *conv(16, 32),
                nn.MaxPool2d(2),  # 8 x 32
                *conv(32, 64),
                *conv(64, 64),
                nn.MaxPool2d((2, 1)),  # 4 x 32
                *conv(64, 128),
                *conv(128, 128),
                nn.MaxPool2d((2, 1)),  # 2 x 32
                *conv(128, 128, kernel=(2, 1), padding=0),  # 1 x 32
                nn.Dropout(0.1),
            )
            self.rnn = nn.LSTM(128, hidden, bidirectional=True, batch_first=True)
            self.classifier = nn.Linear(2 * hidden, len(ALPHABET) + 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            """(N, 1, 32, 128) in [-1, 1]-ish -> (N, T, C) log-probabilities."""
            f = self.features(x).squeeze(2).permute(0, 2, 1)  # N, T, 128
            f, _ = self.rnn(f)
            return self.classifier(f).float().log_softmax(-1)  # float32 even under bf16 autocast

    return Crnn()


def greedy_decode(logp: np.ndarray) -> tuple[str, float]:
    """Best path: its text and its probability (the product of the per-step maxima)."""
    best = logp.argmax(-1)
    text = [ALPHABET[k - 1] for t, k in enumerate(best) if k and (t == 0 or k != best[t - 1])]
    return "".join(text), float(math.exp(logp.max(-1).sum()))


def beam_decode(
    logp: np.ndarray, k: int = TOP_K, beam: int = 6, prune: float = 0.005
) -> list[tuple[str, float]]:
    """CTC prefix beam search: up to k (text, probability) pairs, best first, where a text's
    probability sums all its alignments. Characters below `prune` at a step are not extended."""
    probs = np.exp(logp)
    # Python floats (the same doubles): numpy's scalar arithmetic is several times slower
    steps, kept = probs.tolist(), [np.flatnonzero(row[1:] > prune).tolist() for row in probs]
    index = {char: k + 1 for k, char in enumerate(ALPHABET)}
    beams: dict[str, tuple[float, float]] = {"": (1.0, 0.0)}  # prefix -> (p ending in blank, p not)
    for step, keep in zip(steps, kept, strict=True):
        nxt: dict[str, list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            entry = nxt.setdefault(prefix, [0.0, 0.0])
            entry[0] += (pb + pnb) * step[0]
            if prefix:
                entry[1] += pnb * step[index[prefix[-1]]]
            for c in keep:
                char = ALPHABET[c]
                extended = nxt.setdefault(prefix + char, [0.0, 0.0])
                repeat = bool(prefix) and prefix[-1] == char  # needs a blank in between
                extended[1] += (pb if repeat else pb + pnb) * step[c + 1]
        ranked = sorted(nxt.items(), key=lambda item: -(item[1][0] + item[1][1]))[:beam]
        beams = {prefix: (pb, pnb) for prefix, (pb, pnb) in ranked}
    out = sorted(((prefix, pb + pnb) for prefix, (pb, pnb) in beams.items()), key=lambda item: -item[1])
    return [(text, float(p)) for text, p in out[:k]]


def ctc_probabilities(logp: np.ndarray, texts: list[str]) -> np.ndarray:
    """P(text | line) for each text over all CTC alignments (the forward algorithm, all texts at
    once): how much the model believes texts it did not necessarily rank, such as another member's
    candidates or a confusable-character variant a plate format asks for. Texts are padded with blanks
    past their end; nothing flows back from there, so each is read at its own last symbol."""
    out = np.zeros(len(texts))
    valid = [k for k, text in enumerate(texts) if all(c in ALPHABET for c in text)]
    if not valid:
        return out
    size = max(3, 2 * max(len(texts[k]) for k in valid) + 1)
    ext = np.zeros((len(valid), size), int)  # blank, c1, blank, c2, ... padded with blanks
    ends = np.zeros(len(valid), int)  # index of the last extended symbol of each text
    for row, k in enumerate(valid):
        ext[row, 1 : 2 * len(texts[k]) : 2] = [ALPHABET.index(c) + 1 for c in texts[k]]
        ends[row] = 2 * len(texts[k])
    can_skip = np.zeros(ext.shape, bool)
    can_skip[:, 2:] = (ext[:, 2:] != 0) & (ext[:, 2:] != ext[:, :-2])
    # alpha lives in columns 2: of `padded`, behind two columns of -inf, so that the symbol before
    # and the one before that are views, not copies (this loop is most of a read's Python time)
    padded = np.full((len(valid), size + 2), -np.inf)
    alpha = padded[:, 2:]
    alpha[:, :2] = logp[0, ext[:, :2]]
    emissions = logp[:, ext]  # (T, texts, size): every step's gather at once
    stay_or_step, skip = np.empty(ext.shape), np.empty(ext.shape)
    for t in range(1, logp.shape[0]):
        np.logaddexp(alpha, padded[:, 1:-1], out=stay_or_step)
        np.logaddexp(stay_or_step, padded[:, :-2], out=skip)
        np.copyto(stay_or_step, skip, where=can_skip)
        np.add(stay_or_step, emissions[t], out=alpha)
    rows = np.arange(len(valid))
    last = alpha[rows, ends]
    before = np.where(ends > 0, alpha[rows, np.maximum(ends - 1, 0)], -np.inf)
    out[valid] = np.exp(np.logaddexp(last, before))
    return out


def ctc_probability(logp: np.ndarray, text: str) -> float:
    """P(text | line) over all CTC alignments (see ctc_probabilities)."""
    return float(ctc_probabilities(logp, [text])[0])


def pooled_line(
    rows: list[tuple[np.ndarray, float]], k: int = TOP_K
) -> tuple[list[tuple[str, float]], Callable]:
    """Candidates for one line read by several models (networks, members of an ensemble), given as
    (log-probabilities, weight) rows: each row's candidates, every one scored by its probability
    averaged over the rows (weighted), best first; and the averaged probability of any text (for the
    format's confusable variants). Scores are exact sums over all alignments, for one row too (the
    beam's own are pruned). Rows may differ in length (networks with other input widths)."""
    weights = np.array([weight for _, weight in rows], float)
    weights = weights / weights.sum()
    texts = list(dict.fromkeys(text for row, _ in rows for text, _ in decode_line(row, k)))

    def probability(text: str) -> float:
        return float(sum(w * ctc_probability(row, text) for (row, _), w in zip(rows, weights, strict=True)))

    if not texts:
        return [], probability
    scores = weights @ np.array([ctc_probabilities(row, texts) for row, _ in rows])
    order = np.argsort(-scores)[:k]
    return [(texts[i], float(scores[i])) for i in order], probability


def decode_line(logp: np.ndarray, k: int = TOP_K) -> list[tuple[str, float]]:
    """Candidates for one line, best first: the beam's texts, with the greedy text added (at its
    path probability) if the beam lost it."""
    out = beam_decode(logp, k=k)
    text, p = greedy_decode(logp)
    if all(t != text for t, _ in out):
        out = sorted([*out, (text, p)], key=lambda item: -item[1])[:k]
    return out


@dataclass(frozen=True)
class LineModel:
    """One network that reads a line strip: how a grey strip becomes its input, and the network
    (N, C, H, W) -> log-probabilities (N, T, 37), or (N, members, T, 37) for a joined ensemble file.
    `weight` is its share in the pooled probability of a line's candidates, split evenly among its
    members (by default every network counts the same)."""

    prepare: Callable[[np.ndarray], np.ndarray]
    log_probs: LogProbFn
    weight: float = 1.0


def onnx_log_probs(path: Path | str | Callable[[], Path], threads: int | None = None) -> LogProbFn:
    """A LogProbFn over an ONNX file, given or located by a callable (a weight file verified when
    reading starts); the onnxruntime session is made on the first call."""
    session = None

    def run(batch: np.ndarray) -> np.ndarray:
        nonlocal session
        if session is None:
            session = _session(path, threads)
        return session.run(None, {session.get_inputs()[0].name: batch})[0]

    return run


def folded_log_probs(path: Path | str | Callable[[], Path], threads: int | None = None) -> LogProbFn:
    """A LogProbFn over a general text recognizer (PaddleOCR's: softmax over blank, the characters
    listed in the file's `character` metadata, and a space): each of 0-9 A-Z takes the probability
    of every glyph that folds to it (upper and lower case, full-width forms; NFKC), and everything
    else it may read there (separators, other scripts, the space) counts as blank: no plate
    character. So a recognizer never trained on plates reads beside the plate line models."""
    session, columns, targets = None, None, None

    def run(batch: np.ndarray) -> np.ndarray:
        nonlocal session, columns, targets
        if session is None:
            session = _session(path, threads)
            listed = session.get_modelmeta().custom_metadata_map["character"].splitlines()
            folded = [unicodedata.normalize("NFKC", c).upper() for c in listed]
            columns = np.array([k + 1 for k, c in enumerate(folded) if len(c) == 1 and c in ALPHABET], int)
            targets = np.zeros((len(columns), len(ALPHABET) + 1), np.float32)
            targets[np.arange(len(columns)), [ALPHABET.index(folded[k - 1]) + 1 for k in columns]] = 1.0
        probs = session.run(None, {session.get_inputs()[0].name: batch})[0]
        out = probs[..., columns] @ targets
        out[..., 0] = probs.sum(-1) - out.sum(-1)  # blank: whatever is no plate character
        return np.log(np.clip(out, 1e-12, 1.0))

    return run


def _session(path: Path | str | Callable[[], Path], threads: int | None):
    from anpr.onnx import session

    return session(path() if callable(path) else path, threads)


# The committed line models the reader combines when it is given none, each (manifest name, input,
# weight, how its file becomes log-probabilities): the CRNN pair trained from scratch (32x128 grey),
# two PP-OCRv4 models fine-tuned on plates (48x192; the second trained further from the first),
# which share one network's weight as the CRNN pair's members share theirs, and PaddleOCR's PP-OCRv6
# small recognizer as shipped, never trained here (its mistakes are not the fine-tuned models':
# it has seen no dev photo), at the weight of one fine-tuned model.
COMMITTED = (
    ("plate-reader-crnn", model_input, 1.0, onnx_log_probs),
    ("plate-reader-ppocr", wide_input, 0.5, onnx_log_probs),
    ("plate-reader-ppocr-2", wide_input, 0.5, onnx_log_probs),
    ("rapidocr-v6-recognizer", wide_input, 0.5, folded_log_probs),
)


def committed_models(threads: int | None = None) -> list[LineModel]:
    """The committed line models listed in the manifest (each file verified on first use)."""
    from anpr.weights import load_manifest, weight_path

    listed = load_manifest()
    return [
        LineModel(prepare, log_probs(partial(weight_path, name), threads), weight)
        for name, prepare, weight, log_probs in COMMITTED
        if name in listed
    ]


class CrnnReader(PlateReader):
    """The project's trained reader. Each crop is cut into its line strips (whole, top, bottom; only
    whole for a crop too wide to be a two-line plate); every line model reads every strip; a line's
    candidates are scored by their probability averaged over all the models' rows
    (anpr.ocr.crnn.pooled_line), and the plate read is chosen by format (anpr.ocr.lines.choose_read).
    By default the committed models (COMMITTED): the CRNN pair, the two fine-tuned PP-OCRv4 line
    models (half weight each) and PP-OCRv6 as shipped (half weight), whose mistakes differ. One
    model: `model_path` or `log_probs` with its `prepare`. A crop whose text leans 5 degrees or more
    is read as two views, turned level and sheared level, whose rows are pooled (anpr.ocr.level;
    `level=False` reads crops as given). Thread-compatible: one onnxruntime session per model per
    reader."""

    name = "crnn"

    def __init__(
        self,
        model_path: Path | None = None,
        log_probs: LogProbFn | None = None,
        threads: int | None = None,
        prepare: Callable[[np.ndarray], np.ndarray] = model_input,
        models: list[LineModel] | None = None,
        level: bool = True,
    ) -> None:
        if models is None and (model_path is not None or log_probs is not None):
            if log_probs is None:
                assert model_path is not None  # one of the two, by the condition above
                log_probs = onnx_log_probs(model_path, threads)
            models = [LineModel(prepare, log_probs)]
        self.models = models if models is not None else committed_models(threads)
        self.leveller = Leveller(threads) if level else None

    def read(self, crop: np.ndarray, region: str = "auto") -> PlateRead:
        return self.read_batch([crop], region)[0]

    def line_rows(self, crops: list[np.ndarray], chunk: int = 256) -> list[list[list[tuple]]]:
        """For each crop, for each line input (whole, top, bottom): (log-probabilities, weight) rows,
        one per member of each model; empty lists for a crop that cannot be read, and for the top
        and bottom of a crop too wide to be a two-line plate (only its whole line is read)."""
        strips = [
            lines if could_be_two_line(crop) else lines[:1]
            for crop, lines in zip(crops, map(hypotheses_strips, crops), strict=True)
        ]
        rows: list[list[list[tuple]]] = [[[], [], []] for _ in crops]
        for model in self.models:
            inputs, owners = [], []
            for index, lines in enumerate(strips):
                for line, strip in enumerate(lines):
                    inputs.append(model.prepare(strip))
                    owners.append((index, line))
            for start in range(0, len(inputs), chunk):
                batch = np.stack(inputs[start : start + chunk]).astype(np.float32)
                logp = model.log_probs(batch[:, None] if batch.ndim == 3 else batch)
                if logp.ndim == 3:  # one network: (N, T, C); an ensemble file: (N, members, T, C)
                    logp = logp[:, None]
                for members, (owner, line) in zip(logp, owners[start : start + chunk], strict=True):
                    share = model.weight / len(members)  # an ensemble file counts as one network
                    rows[owner][line].extend((member, share) for member in members)
        return rows

    def read_batch(self, crops: list[np.ndarray], region: str = "auto") -> list[PlateRead]:
        # a plate whose line leans 5 degrees or more is read as two views, turned and sheared level
        views = self.leveller(crops) if self.leveller is not None else [[crop] for crop in crops]
        read_rows = iter(self.line_rows([view for group in views for view in group]))
        results = []
        for group in views:
            lines: list[list[tuple]] = [[], [], []]  # each view's rows of each line, pooled
            for view_lines in (next(read_rows) for _ in group):
                for rows, view_rows in zip(lines, view_lines, strict=True):
                    rows.extend(view_rows)
            if not lines[0]:
                results.append(choose_read([], region))
                continue
            pooled = [pooled_line(rows) for rows in lines if rows]  # a wide crop: its whole line only
            reads = [candidates for candidates, _ in pooled] + [[]] * (3 - len(pooled))
            probability = lambda k, text, pooled=pooled: pooled[k][1](text)  # noqa: E731
            results.append(choose_read(reads, region, probability))
        return results
