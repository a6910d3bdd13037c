"""The project's plate recognizer: CTC decoding, the two-line cut, and the committed ONNX model on
real validation crops (never trained on) and on clean synthetic plates."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from anpr.ocr.crnn import (
    ALPHABET,
    CrnnReader,
    LineModel,
    beam_decode,
    ctc_probabilities,
    ctc_probability,
    decode_line,
    folded_log_probs,
    greedy_decode,
    pooled_line,
)
from anpr.ocr.lines import cut_row, hypotheses_inputs, model_input, wide_input
from anpr.weights import weight_path


def log_probs(path: str) -> np.ndarray:
    """A (T, C) log-probability table that puts 0.9 on each symbol of `path` ('-' is the blank)."""
    table = np.full((len(path), len(ALPHABET) + 1), 0.1 / len(ALPHABET))
    for t, symbol in enumerate(path):
        table[t, :] = 0.1 / len(ALPHABET)
        table[t, 0 if symbol == "-" else ALPHABET.index(symbol) + 1] = 0.9
    return np.log(table)


def test_greedy_decode_collapses_repeats_and_blanks():
    text, p = greedy_decode(log_probs("LL-EE-E--7"))
    assert text == "LEE7"
    assert p == pytest.approx(0.9**10)


def test_beam_probability_sums_alignments_and_ranks_best_first():
    table = log_probs("-A-B-")
    beams = beam_decode(table)
    assert beams[0][0] == "AB"
    assert beams[0][1] >= math.exp(table.max(-1).sum())  # at least its best path
    assert [p for _, p in beams] == sorted((p for _, p in beams), reverse=True)


def test_ctc_probability_sums_every_alignment():
    table = log_probs("-AA-B")
    wide = dict(beam_decode(table, k=400, beam=400, prune=0.0))  # wide enough to be exact for these
    for text in ("AB", "A"):
        assert ctc_probability(table, text) == pytest.approx(wide[text], rel=1e-5)
    assert ctc_probability(table, "") == pytest.approx(math.exp(table[:, 0].sum()))
    assert ctc_probability(table, "a?") == 0.0


def test_ctc_probabilities_of_many_texts_match_one_at_a_time():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(32, len(ALPHABET) + 1)) * 3
    table = raw - np.log(np.exp(raw).sum(-1, keepdims=True))
    texts = ["AB", "LEH5789", "", "77", "Z9Z9Z9Z9Z9Z9", "a?"]
    together = ctc_probabilities(table, texts)
    for text, p in zip(texts, together, strict=True):
        assert p == pytest.approx(ctc_probability(table, text), rel=1e-9)
    assert together[-1] == 0.0
    # every text of length <= T has some probability and all of them sum to at most 1
    assert ctc_probabilities(log_probs("AB"), ["AB", "A", "B", "BA", "AA", "BB", ""]).sum() <= 1 + 1e-9


def test_ensemble_members_pool_candidates_by_mean_probability():
    """Two members that disagree: each one's text is a candidate, scored by the mean of both."""
    first, second = log_probs("-A-B-7-"), log_probs("-A-B-1-")
    candidates, probability = pooled_line([(first, 1.0), (second, 1.0)])
    scores = dict(candidates)
    assert {"AB7", "AB1"} <= set(scores)
    for text in ("AB7", "AB1"):
        mean = (ctc_probability(first, text) + ctc_probability(second, text)) / 2
        assert scores[text] == pytest.approx(mean)
        assert probability(text) == pytest.approx(mean)
    assert [p for _, p in candidates] == sorted(scores.values(), reverse=True)
    alone, _ = pooled_line([(first, 1.0)])
    assert {t for t, _ in alone} == {t for t, _ in decode_line(first)}
    assert all(p == pytest.approx(ctc_probability(first, t)) for t, p in alone)


def test_weighted_rows_of_different_lengths_pool_by_weighted_mean():
    """A network with a wider input gives longer rows; a weight of 3 counts its row three times."""
    short, long = log_probs("-A-B-7-"), log_probs("--A--B--1--")
    candidates, probability = pooled_line([(short, 1.0), (long, 3.0)])
    scores = dict(candidates)
    for text in ("AB7", "AB1"):
        weighted = (ctc_probability(short, text) + 3 * ctc_probability(long, text)) / 4
        assert scores[text] == pytest.approx(weighted)
        assert probability(text) == pytest.approx(weighted)
    assert candidates[0][0] == "AB1"


def test_decode_line_keeps_greedy_text_first_when_it_is_best():
    candidates = decode_line(log_probs("5-7-8-9"))
    assert candidates[0][0] == "5789"
    assert len({t for t, _ in candidates}) == len(candidates)


def test_cut_row_falls_in_the_gap_between_two_text_lines():
    image = np.full((100, 200), 230, np.uint8)
    cv2.putText(image, "LEH 07", (50, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 20, 3)
    cv2.putText(image, "5789", (60, 90), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 20, 3)
    assert 42 <= cut_row(image) <= 58


@pytest.mark.parametrize("crop", [np.zeros((0, 0, 3), np.uint8), np.zeros((3, 5, 3), np.uint8), None])
def test_unusable_crops_give_no_model_input(crop):
    assert hypotheses_inputs(crop) == []


@pytest.fixture(scope="module")
def reader():
    return CrnnReader()  # the committed line models (each file's SHA-256 verified on first use)


@pytest.fixture(scope="module")
def crnn_pair():
    return CrnnReader(weight_path("plate-reader-crnn"))


def test_the_default_reader_combines_the_committed_line_models(reader):
    """The CRNN pair counts as one network, the two PP-OCRv4 models share another's weight, and
    PaddleOCR's PP-OCRv6 recognizer as shipped weighs as one fine-tuned model."""
    assert [m.prepare for m in reader.models] == [model_input, wide_input, wide_input, wide_input]
    assert [m.weight for m in reader.models] == [1.0, 0.5, 0.5, 0.5]
    batch = np.random.default_rng(2).uniform(-1, 1, (2, 3, 48, 192)).astype(np.float32)
    first, second, general = (m.log_probs(batch) for m in reader.models[1:])
    assert first.shape == second.shape == general.shape == (2, 24, 37)
    assert not np.allclose(first, second, atol=1e-3)  # two trained models, not one file twice
    assert np.allclose(np.exp(general).sum(-1), 1.0, atol=1e-3)  # folded, still a distribution


def recognizer_file(tmp_path, characters: list[str]):
    """An ONNX 'recognizer' that passes its input through as the probabilities over blank, the
    listed characters and a space, with PaddleOCR's `character` metadata."""
    from onnx import TensorProto, helper, save

    classes = len(characters) + 2
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "recognizer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, None, classes])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None, classes])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    helper.set_model_props(model, {"character": "\n".join(characters)})
    path = tmp_path / "recognizer.onnx"
    save(model, str(path))
    return path


def test_a_general_recognizer_folds_case_and_full_width_into_plate_characters(tmp_path):
    """p(A) is p('a') + p('A') + p(full-width A); a separator, another script and the space are no
    plate character: blank. Every step stays a distribution over blank + 0-9 A-Z."""
    path = recognizer_file(tmp_path, ["a", "A", "-", "\uff21", "7", "\u4e2d"])  # full-width A, a CJK glyph
    # classes: blank, a, A, -, full-width A, 7, CJK, space
    probs = np.array([[[0.1, 0.2, 0.3, 0.0, 0.1, 0.0, 0.0, 0.3], [0.0, 0.0, 0.0, 0.4, 0.0, 0.5, 0.1, 0.0]]])
    out = np.exp(folded_log_probs(path)(probs.astype(np.float32)))
    assert out.shape == (1, 2, len(ALPHABET) + 1)
    assert out[0, 0, ALPHABET.index("A") + 1] == pytest.approx(0.6)
    assert out[0, 0, 0] == pytest.approx(0.4)  # blank 0.1 + space 0.3
    assert out[0, 1, ALPHABET.index("7") + 1] == pytest.approx(0.5)
    assert out[0, 1, 0] == pytest.approx(0.5)  # '-' and the CJK glyph
    assert np.allclose(out.sum(-1), 1.0, atol=1e-5)


def test_the_shipped_general_recognizer_reads_a_clean_plate_alone():
    """PP-OCRv6 small, never trained here, through the folding reads a clean synthetic EU plate."""
    from anpr.lab.synth import render_plate

    plate = render_plate(np.random.default_rng(3), "eu", degrade=False)
    alone = CrnnReader(
        models=[LineModel(wide_input, folded_log_probs(weight_path("rapidocr-v6-recognizer")))]
    )
    assert alone.read(plate.image, "eu").text == plate.text


def test_a_file_of_identical_members_reads_as_the_single_model(crnn_pair):
    """An ensemble file gives (N, members, T, C); two copies of one member must read as that member."""
    from anpr.lab.synth import render_plate

    def first_member(batch):
        out = crnn_pair.models[0].log_probs(batch)
        return out[:, 0] if out.ndim == 4 else out

    single = CrnnReader(log_probs=first_member)
    twice = CrnnReader(log_probs=lambda batch: np.stack([first_member(batch)] * 2, axis=1))
    plates = [render_plate(np.random.default_rng(seed)).image for seed in range(6)]
    for ours, theirs in zip(twice.read_batch(plates, "auto"), single.read_batch(plates, "auto"), strict=True):
        assert (ours.text, ours.year, ours.layout) == (theirs.text, theirs.year, theirs.layout)
        assert ours.confidence == pytest.approx(theirs.confidence, rel=1e-6)


def test_a_crop_too_wide_for_two_lines_is_read_as_its_whole_line_only(crnn_pair):
    """Its top and bottom strips would be read and thrown away (the two-line hypothesis is not
    scored for it): the models see one input for it and three for a 2:1 crop, and it still reads."""
    from anpr.lab.synth import render_plate

    seen = []

    def counting(batch):
        seen.append(len(batch))
        return crnn_pair.models[0].log_probs(batch)

    reader = CrnnReader(log_probs=counting, level=False)
    wide = render_plate(np.random.default_rng(3), "eu", degrade=False)
    square = render_plate(np.random.default_rng(1), "pk-punjab-legacy-2line", degrade=False)
    assert wide.image.shape[1] / wide.image.shape[0] > 2.8 > square.image.shape[1] / square.image.shape[0]
    rows = reader.line_rows([wide.image, square.image])
    assert seen == [1 + 3]
    assert [bool(line) for line in rows[0]] == [True, False, False]
    assert all(rows[1])
    seen.clear()
    read = reader.read(wide.image, "eu")
    assert seen == [1]
    assert read.text == wide.text


def test_the_committed_crnn_is_an_ensemble_of_differing_members(crnn_pair):
    batch = np.random.default_rng(0).normal(size=(2, 1, 32, 128)).astype(np.float32)
    out = crnn_pair.models[0].log_probs(batch)
    assert out.shape == (2, 2, 32, 37)
    assert not np.allclose(out[:, 0], out[:, 1])  # two trained models, not one copied


@pytest.mark.parametrize(
    "crop",
    [
        np.zeros((40, 120, 3), np.uint8),
        np.zeros((3, 5, 3), np.uint8),
        np.zeros((0, 0, 3), np.uint8),
        np.full((60, 120, 3), 255, np.uint8),
    ],
    ids=["black", "tiny", "empty", "white"],
)
def test_unreadable_crop_gives_empty_or_unsure_read(reader, crop):
    read = reader.read(crop)
    assert read.text == "" or read.confidence < 0.5


def test_clean_synthetic_two_line_plate_reads_text_and_year_in_order(reader):
    from anpr.lab.synth import render_plate

    plates = [
        render_plate(np.random.default_rng(seed), "pk-punjab-legacy-2line", degrade=False) for seed in (1, 2)
    ]
    reads = reader.read_batch([p.image for p in plates])
    assert [(r.text, r.year, r.layout) for r in reads] == [(p.text, p.year, "two-line") for p in plates]


# Validation-split crops (anpr.lab.datasets.split_of puts them in "val": never trained on), read with
# the region hint `anpr bench` gives: (set, file, region, text, year).
REAL_VAL = [
    ("pk-plates-dev", "0.jpg", "pk", "LEH5789", "07"),
    ("pk-plates-dev", "19.jpg", "pk", "LEC5949", "19"),
    ("pk-plates-dev", "92.jpg", "pk", "ASL277", None),
    ("openalpr-dev", "us/1e241dc8-8f18-4955-8988-03a0ab49f813.jpg", "us", "CCLVN3", None),
    ("openalpr-dev", "eu/test_018.jpg", "eu", "RK884AL", None),
    ("openalpr-dev", "br/OKK7448.jpg", "br", "OKK7448", None),
]


def real_val_crop(datasets, dataset: str, name: str):
    from anpr.lab.datasets import openalpr_photos, pk_crops

    if dataset == "pk-plates-dev":
        (crop,) = [c for c in pk_crops(datasets) if c.path.name == name]
        assert crop.split == "val"
        return cv2.imread(str(crop.path))
    (photo,) = [p for p in openalpr_photos(datasets) if p.path == datasets / dataset / name]
    assert photo.split == "val"
    x1, y1, x2, y2 = photo.box
    return cv2.imread(str(photo.path))[y1:y2, x1:x2]


@pytest.mark.parametrize(
    ("dataset", "name", "region", "text", "year"), REAL_VAL, ids=[r[1] for r in REAL_VAL]
)
def test_real_validation_crop_reads_exactly(reader, datasets, dataset, name, region, text, year):
    read = reader.read(real_val_crop(datasets, dataset, name), region)
    assert (read.text, read.year) == (text, year)
    assert read.layout == ("two-line" if year else "one-line")
    assert read.candidates[0].text == read.text
    confidences = [c.confidence for c in read.candidates]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.5 < read.confidence <= 1.0
