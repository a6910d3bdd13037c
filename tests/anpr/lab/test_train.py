"""The training recipe runs on the CPU end to end: a tiny member trained on synthetic and real
training crops, exported to ONNX, joined into an ensemble file, validated on the held-back splits,
model card written."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from anpr.lab.bench import READ_IOU
from anpr.lab.datasets import openalpr_photos
from anpr.lab.train import ensemble, ocr
from anpr.ocr.crnn import MODEL_NAME
from anpr.track import iou


@pytest.mark.slow
def test_a_member_trains_joins_and_gets_a_card(datasets, tmp_path, monkeypatch):
    monkeypatch.setenv("ANPR_DATASETS", str(datasets))
    member = tmp_path / "member-3"
    ocr.main(
        [
            *("--out", str(member), "--work", str(member), "--steps", "12", "--batch", "8"),
            *("--seed", "3", "--workers", "0"),
        ]
    )
    training = json.loads((member / "training.json").read_text())
    assert training["steps_done"] == 12 and training["args"]["seed"] == 3
    assert training["history"][-1]["step"] == 12  # validated at the end
    assert (member / f"{MODEL_NAME}.onnx").stat().st_size > 1_000_000
    ensemble.main(["--out", str(tmp_path / "models"), str(member), str(member)])
    joined = tmp_path / "models" / f"{MODEL_NAME}.onnx"
    session = ort.InferenceSession(str(joined), providers=["CPUExecutionProvider"])
    out = session.run(None, {"image": np.zeros((3, 1, 32, 128), np.float32)})[0]
    assert out.shape == (3, 2, 32, 37)
    np.testing.assert_allclose(out[:, 0], out[:, 1])
    card = (tmp_path / "models" / f"{MODEL_NAME}.md").read_text()
    assert "an ensemble of 2 CRNNs" in card
    assert card.count("--seed 3") == 2
    assert "| pk-plates-dev |" in card  # measured on the held-back split


@pytest.mark.parametrize("arch", ["ppocr", "ppocr-v6"])
def test_the_converted_pp_ocr_head_reads_as_the_original_restricted_to_our_alphabet(arch):
    """Before any training the torch module is the base recognizer itself (PP-OCRv4, PP-OCRv6
    small): its 37 logits are the original's logits for blank and 0-9 A-Z (conversion, batch-norm
    folding, explicit padding and head cut change nothing)."""
    import torch

    from anpr.lab.train.ppocr import BASES, build_model
    from anpr.ocr.crnn import ALPHABET
    from anpr.weights import weight_path

    path = weight_path(BASES[arch].weight)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    characters = session.get_modelmeta().custom_metadata_map["character"].splitlines()
    rows = [0] + [characters.index(c) + 1 for c in ALPHABET]
    image = np.random.default_rng(0).uniform(-1, 1, (2, 3, 48, 192)).astype(np.float32)
    original = session.run(None, {session.get_inputs()[0].name: image})[0][:, :, rows]  # softmax
    model = build_model(arch=arch).eval()
    with torch.no_grad():
        ours = model(torch.from_numpy(image)).exp().numpy()  # softmax over our 37 classes only
    np.testing.assert_allclose(ours, original / original.sum(-1, keepdims=True), rtol=1e-3, atol=1e-5)


@pytest.mark.slow
def test_pp_ocr_fine_tune_trains_exports_and_gets_a_card(datasets, tmp_path, monkeypatch):
    monkeypatch.setenv("ANPR_DATASETS", str(datasets))
    out = tmp_path / "ppocr"
    ocr.main(
        [
            *("--arch", "ppocr", "--out", str(out), "--work", str(out), "--steps", "3", "--batch", "4"),
            *("--seed", "3", "--workers", "0", "--no-bf16", "--lr", "1e-4", "--detected-share", "0.5"),
            *("--tilt", "3"),
        ]
    )
    training = json.loads((out / "training.json").read_text())
    assert training["steps_done"] == 3 and training["args"]["arch"] == "ppocr"
    # the training photos' plates as the shipped detectors box them, each on its labelled plate
    detected = json.loads((out / "detected-train.json").read_text())
    labelled = {p.path.name: p.box for p in openalpr_photos() if p.split == "train"}
    assert len(detected) >= 0.9 * len(labelled)
    assert all(iou(box, labelled[name]) >= READ_IOU for name, box in detected.items())
    session = ort.InferenceSession(str(out / "plate-reader-ppocr.onnx"), providers=["CPUExecutionProvider"])
    logp = session.run(None, {"image": np.zeros((5, 3, 48, 192), np.float32)})[0]  # exported with 2
    assert logp.shape == (5, 24, 37)
    np.testing.assert_allclose(np.exp(logp).sum(-1), 1.0, rtol=1e-4)
    card = (out / "plate-reader-ppocr.md").read_text()
    assert "--arch ppocr" in card and "--seed 3" in card and "--detected-share 0.5" in card
    assert "--tilt 3.0" in card
    assert "| pk-plates-dev |" in card


def test_a_fine_tuned_pp_ocr_file_loads_back_for_more_training():
    """`--arch ppocr --init models/plate-reader-ppocr.onnx` trains the shipped line model further:
    the torch module built from the exported file computes what the file does, and a file of
    another network is refused."""
    import torch

    from anpr.lab.train.ppocr import build_model, exported_state
    from anpr.weights import weight_path

    path = weight_path("plate-reader-ppocr")
    model = build_model()
    fresh = model(torch.zeros(1, 3, 48, 192)).detach().numpy()
    model.load_state_dict(exported_state(model, path))
    model.eval()
    image = np.random.default_rng(1).uniform(-1, 1, (2, 3, 48, 192)).astype(np.float32)
    with torch.no_grad():
        ours = model(torch.from_numpy(image)).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    shipped = session.run(None, {"image": image})[0]
    np.testing.assert_allclose(np.exp(ours), np.exp(shipped), atol=1e-4)
    assert not np.allclose(model(torch.zeros(1, 3, 48, 192)).detach().numpy(), fresh, atol=1e-3)
    with pytest.raises(ValueError, match="not a plate line model"):
        exported_state(build_model(), weight_path(MODEL_NAME))


def test_a_pp_ocr_v6_line_model_exports_and_loads_back(tmp_path):
    """`--arch ppocr-v6`: the converted PP-OCRv6 network exports to the ONNX file the reader runs
    ((N, 24, 37) log-probabilities for a 48x192 strip, as it computed them) and loads back for more
    training."""
    import torch

    from anpr.lab.train.ppocr import build_model, exported_state

    model = build_model(arch="ppocr-v6").eval()
    torch.manual_seed(0)
    with torch.no_grad():  # weights that training could have left, unlike the base's
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    path = tmp_path / "v6.onnx"
    ocr.export_onnx(model, path, "ppocr-v6")
    image = np.random.default_rng(2).uniform(-1, 1, (3, 3, 48, 192)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    exported = session.run(None, {"image": image})[0]
    with torch.no_grad():
        ours = model(torch.from_numpy(image)).numpy()
    assert exported.shape == (3, 24, 37)
    np.testing.assert_allclose(np.exp(exported), np.exp(ours), atol=1e-4)
    again = build_model(arch="ppocr-v6").eval()
    with torch.no_grad():
        fresh = again(torch.from_numpy(image)).numpy()
        again.load_state_dict(exported_state(again, path))
        reloaded = again(torch.from_numpy(image)).numpy()
    np.testing.assert_allclose(np.exp(reloaded), np.exp(exported), atol=1e-4)
    assert not np.allclose(np.exp(fresh), np.exp(exported), atol=1e-2)


def test_tilt_turns_the_crop_in_its_box_by_the_asked_spread():
    """--tilt: a level bar comes out turned by a normal angle of the given spread, never past three."""
    import cv2

    from anpr.lab.train.ocr_data import tilted

    bar = np.zeros((60, 200), np.uint8)
    bar[27:33, 40:160] = 255
    rng = np.random.default_rng(0)
    angles = []
    for _ in range(40):
        m = cv2.moments(tilted(rng, bar, 4.0))
        angles.append(np.degrees(0.5 * np.arctan2(2 * m["mu11"], m["mu20"] - m["mu02"])))
    assert 2.5 < np.std(angles) < 6.0
    assert max(abs(a) for a in angles) <= 12.5


def test_training_without_the_real_sets_says_so_instead_of_dividing_by_zero(tmp_path, monkeypatch):
    """The recipe mixes in the real training photos; where ../shared/datasets is missing it stops with
    one clear error, and a synthetic-only run (real share 0) still draws samples."""
    from anpr.errors import InputError
    from anpr.lab.train.ocr_data import training_samples

    monkeypatch.setenv("ANPR_DATASETS", str(tmp_path))
    with pytest.raises(InputError, match="no real training photos"):
        next(training_samples(seed=1, real_share=0.3, pool_size=4, pool_start=2))
    image, label = next(training_samples(seed=1, real_share=0.0, pool_size=4, pool_start=2))
    assert image.size > 0 and len(label) > 0


@pytest.mark.slow
def test_a_member_trains_where_only_the_training_half_is_and_is_validated_where_both_are(
    datasets, tmp_path, monkeypatch
):
    """A GPU machine may hold only the training half: training runs unvalidated (no history, no
    result), and --report-only validates the exported model and writes its card where the held-back
    half is."""
    monkeypatch.setenv("ANPR_DATASETS", str(tmp_path / "no-sets"))
    member = tmp_path / "member"
    common = ("--out", str(member), "--work", str(member))
    ocr.main([*common, "--steps", "3", "--batch", "4", "--workers", "0", "--real-share", "0"])
    training = json.loads((member / "training.json").read_text())
    assert training["steps_done"] == 3 and training["history"] == []
    assert (member / f"{MODEL_NAME}.onnx").is_file() and not (member / "result.json").exists()
    monkeypatch.setenv("ANPR_DATASETS", str(datasets))
    ocr.main([*common, "--report-only"])
    result = json.loads((member / "result.json").read_text())
    assert result["accuracy"]["pk-plates-dev"]["plates"] > 0
    assert "| pk-plates-dev |" in (member / f"{MODEL_NAME}.md").read_text()


def test_data_processes_of_two_members_draw_apart():
    """Members trained side by side with seeds 1 and 2 and seven data processes each draw fourteen
    different streams; a one-process run keeps its seed."""
    seeds = {ocr.worker_seed(seed, worker) for seed in (1, 2) for worker in range(7)}
    assert len(seeds) == 14
    assert ocr.worker_seed(5, 0) == 5


def test_a_pack_holds_the_training_half_only_and_trains_sample_for_sample_the_same(
    datasets, tmp_path, monkeypatch
):
    """`python -m anpr.lab.train.pack` takes what training reads to another machine: the cut photos give
    the same training samples as the whole ones, and the held-back half is not in the pack."""
    from anpr.lab.train import pack
    from anpr.lab.train.ocr_data import training_samples, val_items

    def stream(root):
        monkeypatch.setenv("ANPR_DATASETS", str(root))
        samples = training_samples(seed=7, real_share=0.9, pool_size=20, pool_start=10)
        return [next(samples) for _ in range(300)]

    pack.main([str(tmp_path / "pack"), "--datasets", str(datasets)])
    packed = tmp_path / "pack" / "datasets"
    assert sorted(p.name for p in (tmp_path / "pack" / "fonts").iterdir())  # the synthetic plates' faces
    for (image, label), (same_image, same_label) in zip(stream(datasets), stream(packed), strict=True):
        assert label == same_label and np.array_equal(image, same_image)
    monkeypatch.setenv("ANPR_DATASETS", str(packed))
    assert val_items() == []
    assert len(openalpr_photos()) < len(openalpr_photos(datasets)) and all(
        p.split == "train" for p in openalpr_photos()
    )
    with pytest.raises(SystemExit, match="not an empty folder"):
        pack.main([str(tmp_path / "pack"), "--datasets", str(datasets)])
    (tmp_path / "a-file").write_text("")
    with pytest.raises(SystemExit, match="not an empty folder"):
        pack.main([str(tmp_path / "a-file"), "--datasets", str(datasets)])
    with pytest.raises(SystemExit, match="no-sets/openalpr-dev/labels.csv not found"):
        pack.main([str(tmp_path / "elsewhere"), "--datasets", str(tmp_path / "no-sets")])
    with pytest.raises(SystemExit, match="these sets are a pack"):
        ocr.main(["--out", str(tmp_path / "m"), "--work", str(tmp_path / "m"), "--detected-share", "0.5"])


def test_holding_a_fold_out_leaves_exactly_its_real_items_out_and_scores_on_them(datasets, monkeypatch):
    """--hold-fold: the fold's photos and crops leave the training stream and become what the run is
    scored on; without it the real training items are the whole half, in the order they always were
    (the stream draws them by index, so the order is the stream)."""
    from anpr.lab.datasets import Fold, part_of, pk_crops
    from anpr.lab.train.ocr_data import real_items, val_items

    monkeypatch.setenv("ANPR_DATASETS", str(datasets))
    fold = Fold(2, 5)
    photos, crops = real_items("train")
    assert [(box, text) for _, box, text, _ in photos] == [
        (p.box, p.printed) for p in openalpr_photos() if p.split == "train"
    ]
    every_crop = [c for c in pk_crops() if c.split == "train"]
    assert len(crops) == len(every_crop)
    assert all(c.text.endswith(item.lines[-1]) for c, item in zip(every_crop, crops, strict=True))
    kept_photos, kept_crops = real_items("train", hold=fold)
    held_photos, held_crops = part_of(openalpr_photos(), fold), part_of(pk_crops(), fold)
    assert held_photos and held_crops
    assert len(kept_photos) == len(photos) - len(held_photos) and len(kept_crops) == len(crops) - len(
        held_crops
    )
    assert {box for _, box, _, _ in kept_photos}.isdisjoint({p.box for p in held_photos})
    scored = val_items(fold)
    assert [i.text for i in scored] == [p.text for p in held_photos] + [c.text for c in held_crops]
    assert all(item.split == "train" for item in (*held_photos, *held_crops))


def test_the_fold_options_go_together():
    for argv in (["--hold-fold", "2"], ["--folds", "5"], ["--folds", "5", "--hold-fold", "6"]):
        with pytest.raises(SystemExit) as stopped:
            ocr.main(["--report-only", *argv])
        assert stopped.value.code == 2


@pytest.mark.slow
def test_a_fold_run_says_it_was_scored_on_its_fold_and_is_not_joined(datasets, tmp_path, monkeypatch):
    from anpr.lab.datasets import Fold, part_of, pk_crops

    monkeypatch.setenv("ANPR_DATASETS", str(datasets))
    member = tmp_path / "member"
    common = ("--out", str(member), "--work", str(member))
    ocr.main([*common, "--steps", "2", "--batch", "4", "--workers", "0", "--folds", "5", "--hold-fold", "2"])
    training = json.loads((member / "training.json").read_text())
    assert training["scored_on"] == "fold 2/5 of the training half, held out of this run's training"
    assert (training["args"]["folds"], training["args"]["hold_fold"]) == (5, 2)
    result = json.loads((member / "result.json").read_text())
    fold = Fold(2, 5)
    assert result["accuracy"]["openalpr-dev"]["plates"] == len(part_of(openalpr_photos(), fold))
    assert result["accuracy"]["pk-plates-dev"]["plates"] == len(part_of(pk_crops(), fold))
    card = (member / f"{MODEL_NAME}.md").read_text()
    assert "## Scored on fold 2/5 of the training half" in card and "NOT the validation half" in card
    assert "--folds 5 --hold-fold 2" in card
    with pytest.raises(SystemExit, match="holding out fold 2/5 of the training half, not fold 3/5"):
        ocr.main([*common, "--report-only", "--folds", "5", "--hold-fold", "3"])
    with pytest.raises(SystemExit):
        ensemble.main(["--out", str(tmp_path / "models"), str(member)])
    assert not (tmp_path / "models" / f"{MODEL_NAME}.onnx").exists()
