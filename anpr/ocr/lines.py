"""One- and two-line plates for a one-line CTC model.

Every crop is read three ways in one batch: whole (one-line hypothesis), and cut at the gap between
its text lines into a top and a bottom strip, each read on its own (two-line hypothesis). A line strip
of a 2:1 two-line plate is about 4:1, the model's own shape. Aspect ratio does not tell the layouts
apart (US and Sindh one-line plates are 2:1 too), so both hypotheses are scored, confidence times
format prior, and the better one is kept."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from anpr.types import Candidate, PlateRead

LINE_H, LINE_W = 32, 128
WIDE_H, WIDE_W = 48, 192  # the fine-tuned PP-OCRv4 line model's input (anpr.lab.train.ppocr)
MIN_CROP = (8, 16)  # height, width below which nothing is read
LINE_OVERLAP = 0.04  # each strip reaches this fraction of the plate height past the cut
CUT_RANGE = (0.3, 0.7)  # where the gap between the lines is searched, fraction of the height
PAIRS = 3  # top-k of each line combined into two-line candidates
MAX_CANDIDATES = 6  # hypotheses passed to the format re-ranker (its cost grows with each)
MIN_SHARE = 0.002  # ... and only those at least this share of the best one's probability

VARIANT_SOURCES = 2  # best hypotheses per layout whose confusable variants are tried
MAX_VARIANTS = 4  # ... and variants per hypothesis

# Two-line plates are never much wider than 2:1 (pk-plates-dev two-line crops: at most 2.01), while
# one-line EU and Brazilian plates are 3:1 to 4.6:1 (openalpr-dev). Reading such a wide plate cut in
# two can fit a Pakistani two-line grammar (EU "BS 47040" as series BS, year 47, number 040), so
# wider crops get the one-line hypothesis only.
MAX_TWO_LINE_ASPECT = 2.8

LineCandidates = list[tuple[str, float]]
LineProbability = Callable[[int, str], float]  # (line input 0 whole, 1 top, 2 bottom; text) -> P


def to_grey(crop: np.ndarray | None) -> np.ndarray | None:
    """A uint8 grey image, or None for a crop too small or malformed to read."""
    if crop is None or not isinstance(crop, np.ndarray) or crop.ndim not in (2, 3) or crop.size == 0:
        return None
    if crop.shape[0] < MIN_CROP[0] or crop.shape[1] < MIN_CROP[1]:
        return None
    image = crop if crop.dtype == np.uint8 else np.clip(crop, 0, 255).astype(np.uint8)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    return image


def cut_row(grey: np.ndarray) -> int:
    """The row between the two text lines: least horizontal-gradient energy (text strokes are
    vertical edges, the gap has none) in the middle of the plate, left band (emblems) excluded."""
    h, w = grey.shape
    scale = 64 / h
    small = cv2.resize(grey, (max(16, round(w * scale)), 64), interpolation=cv2.INTER_AREA)
    energy = np.abs(cv2.Sobel(small.astype(np.float32), cv2.CV_32F, 1, 0, ksize=3))
    sw = small.shape[1]
    profile = energy[:, int(0.2 * sw) : int(0.97 * sw)].mean(axis=1)
    profile = np.convolve(profile, np.ones(5) / 5, mode="same")
    lo, hi = int(CUT_RANGE[0] * 64), int(CUT_RANGE[1] * 64)
    row = lo + int(np.argmin(profile[lo:hi]))
    return min(h - 1, max(1, round(row / scale)))


def line_strips(grey: np.ndarray, cut: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top and bottom strips of a two-line plate, cut at `cut` (found when not given)."""
    h = grey.shape[0]
    cut = cut_row(grey) if cut is None else cut
    overlap = max(1, round(LINE_OVERLAP * h))
    return grey[: min(h, cut + overlap)], grey[max(0, cut - overlap) :]


def model_input(strip: np.ndarray) -> np.ndarray:
    """A grey strip as the model sees it: LINE_H x LINE_W float32, zero mean, unit-ish contrast."""
    h, w = strip.shape[:2]
    shrink = h > LINE_H and w > LINE_W
    image = cv2.resize(strip, (LINE_W, LINE_H), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    image = image.astype(np.float32)
    return (image - image.mean()) / max(float(image.std()), 8.0)


def wide_input(strip: np.ndarray) -> np.ndarray:
    """A grey strip as the PP-OCRv4-based line model sees it: 3 x WIDE_H x WIDE_W float32 in [-1, 1],
    its aspect kept up to WIDE_W (wider strips are squeezed), the rest zero (PaddleOCR's padding)."""
    h, w = strip.shape[:2]
    width = min(WIDE_W, max(8, round(WIDE_H * w / max(1, h))))
    shrink = h > WIDE_H and w > width
    image = cv2.resize(strip, (width, WIDE_H), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    out = np.zeros((3, WIDE_H, WIDE_W), np.float32)
    out[:, :, :width] = image.astype(np.float32) / 127.5 - 1.0
    return out


def hypotheses_strips(crop: np.ndarray | None) -> list[np.ndarray]:
    """[whole, top, bottom] grey strips of one crop, or [] when the crop cannot be read."""
    grey = to_grey(crop)
    if grey is None:
        return []
    return [grey, *line_strips(grey)]


def hypotheses_inputs(crop: np.ndarray | None, prepare: Callable = model_input) -> list[np.ndarray]:
    """[whole, top, bottom] model inputs of one crop, or [] when the crop cannot be read."""
    return [prepare(strip) for strip in hypotheses_strips(crop)]


def _formats():
    from anpr.plates import formats

    return formats


def could_be_two_line(crop: np.ndarray | None) -> bool:
    """False for a crop too wide (width / height) to be a two-line plate."""
    if crop is None or not hasattr(crop, "shape") or crop.ndim < 2 or crop.shape[0] == 0:
        return True
    return crop.shape[1] / crop.shape[0] <= MAX_TWO_LINE_ASPECT


def layout_candidates(reads: list[LineCandidates]) -> list[tuple[str | tuple[str, str], float, str]]:
    """(text or lines, model probability, layout) for both hypotheses of one crop."""
    whole, top, bottom = reads
    out: list[tuple[str | tuple[str, str], float, str]] = [(text, p, "one-line") for text, p in whole if text]
    for text_top, p_top in top[:PAIRS]:
        for text_bottom, p_bottom in bottom[:PAIRS]:
            if text_top and text_bottom:
                out.append(((text_top, text_bottom), p_top * p_bottom, "two-line"))
    out.sort(key=lambda item: -item[1])
    return [c for c in out[:MAX_CANDIDATES] if c[1] >= MIN_SHARE * out[0][1]]


# A same-glyph swap (0/O) lets the format decide only where the swapped text's layout is
# decisively likelier than the text's own: the Slovak BA302OZ (0.8 against the catch-all 0.3), not
# a Pakistani XHN-9020 against the Brazilian Mercosur shape XHN9O20 (0.95 against 0.9), where the
# model's own reading of the glyph is the better guide.
SAME_GLYPH_MARGIN = 1.5


def _decisive(formats, lines: tuple[str, ...], swapped: tuple[str, ...], region: str) -> bool:
    """Whether the swapped lines' layout is SAME_GLYPH_MARGIN times as likely a priori as the lines'."""
    return formats.format_prior(swapped, region) >= SAME_GLYPH_MARGIN * formats.format_prior(lines, region)


def with_variants(hypotheses, line_probability: LineProbability, region: str) -> list:
    """The hypotheses plus the confusable-character variants that a plate format asks for
    (anpr.plates.formats: O->0 where a digit belongs ...) of the best few of each layout, each scored
    by the model itself (its probability of the variant's lines), so that a swap wins only where the
    model was unsure. Swaps between characters that many plate fonts draw alike (0 and O:
    anpr.plates.confusables.SAME_GLYPH) are the exception: no reader can be sure of them, so such a
    variant is worth at least its source's probability times the swap factor, and the format prior
    decides (a Slovak BA-302OZ, read BA3020Z)."""
    from anpr.plates.confusables import same_glyph_swaps

    formats = _formats()
    out = {lines: [p, layout] for lines, p, layout in hypotheses}
    for layout, first_line in (("one-line", 0), ("two-line", 1)):
        sources = [(lines, p) for lines, p, lay in hypotheses if lay == layout][:VARIANT_SOURCES]
        for lines, source_p in sources:
            line_tuple = (lines,) if isinstance(lines, str) else lines
            joined = "/".join(line_tuple)
            for variant, factor in formats.confusable_variants(joined, region, MAX_VARIANTS):
                parts = tuple(variant.split("/"))
                if len(parts) != len(line_tuple):
                    continue
                key = parts[0] if len(parts) == 1 else parts
                if key not in out:
                    p = 1.0
                    for k, part in enumerate(parts):
                        p *= line_probability(first_line + k, part)
                    out[key] = [p, layout]
                if same_glyph_swaps(joined, variant) and _decisive(formats, line_tuple, parts, region):
                    out[key][0] = max(out[key][0], source_p * factor)
    return [(lines, p, layout) for lines, (p, layout) in out.items()]


def _echoes_discounted(hypotheses, formats, region: str) -> list:
    """The hypotheses with each one-line reading that repeats a line of a two-line reading which
    parses as a plate scaled by one minus that reading's probability. A two-line plate's whole-crop
    read is often its top line alone ("LEC13" of LEC-13 / 390): the same glyphs read twice, no plate
    of its own, and it took a quarter of the probability from a two-line read at 0.999. Scaled, not
    dropped: a Sindh ASL277 with a year printed small on top reads the same as one line and as the
    bottom of an unsure "year / plate" reading, and keeps its one-line reading."""
    explained: dict[str, float] = {}
    for lines, p, layout in hypotheses:
        if layout == "two-line" and formats.parse(lines, region) is not None:
            for line in lines:
                key = formats.normalise(line)
                explained[key] = max(explained.get(key, 0.0), p)
    out = []
    for lines, p, layout in hypotheses:
        if layout == "one-line":
            p *= 1.0 - explained.get(formats.normalise(lines), 0.0)
        out.append((lines, p, layout))
    return out


def _cue_word(hypotheses, formats) -> str | None:
    """A province word (SINDH, PUNJAB ...) read on the plate by the likeliest hypothesis that reads one:
    it names the plate's region whichever way its lines are read."""
    for lines, _, _ in sorted(hypotheses, key=lambda h: -h[1]):
        for line in (lines,) if isinstance(lines, str) else lines:
            if formats.normalise(line) in formats.CUE_WORDS:
                return formats.normalise(line)
    return None


def choose_read(
    reads: list[LineCandidates], region: str = "auto", line_probability: LineProbability | None = None
) -> PlateRead:
    """The plate read from the line reads [whole, top, bottom] of one crop. Every candidate of both
    layouts is scored model probability x format prior (anpr.plates.formats); readings of the same
    registration pool their scores, which are then scaled to sum to the candidates' probability mass
    (at most 1) so that they read as probabilities. Confusable-character swaps are left to the model's
    own probabilities: `line_probability` scores the variants the formats ask for (see
    with_variants). An empty read with zero confidence when there is nothing to read."""
    if len(reads) != 3:
        return PlateRead(text="", confidence=0.0)
    formats = _formats()
    # (text, year) -> [score, best score, and the parse, layout and lines of the best reading]
    pooled: dict[tuple[str, str | None], list] = {}
    hypotheses = layout_candidates(reads)
    if line_probability is not None:
        hypotheses = with_variants(hypotheses, line_probability, region)
    hypotheses = _echoes_discounted(hypotheses, formats, region)
    cue_word = _cue_word(hypotheses, formats)
    for lines, p, layout in hypotheses:
        line_tuple = (lines,) if isinstance(lines, str) else lines
        if cue_word and cue_word not in map(formats.normalise, line_tuple):
            line_tuple = (*line_tuple, cue_word)
        parsed = formats.parse(line_tuple, region)
        score = p * formats.format_prior(line_tuple, region)
        text = parsed.text if parsed else formats.normalise("".join(line_tuple))
        entry = pooled.setdefault(
            (text, parsed.year if parsed else None), [0.0, -1.0, parsed, layout, line_tuple]
        )
        entry[0] += score
        if score > entry[1]:
            entry[1:] = [score, parsed, layout, line_tuple]
    total = sum(entry[0] for entry in pooled.values())
    if not total:
        return PlateRead(text="", confidence=0.0)
    scale = min(1.0, sum(p for _, p, _ in hypotheses)) / total
    ranked = sorted(
        (
            (score * scale, key, parsed, layout, lines)
            for key, (score, _, parsed, layout, lines) in pooled.items()
        ),
        key=lambda item: -item[0],
    )
    by_text: dict[str, float] = {}  # a registration's candidates: its scores summed over years
    for score, (text, _), _, _, _ in ranked:
        by_text[text] = by_text.get(text, 0.0) + score
    candidates = sorted(by_text.items(), key=lambda tc: -tc[1])
    confidence, (text, year), parsed, layout, lines = next(r for r in ranked if r[1][0] == candidates[0][0])
    years: dict[str, float] = {}  # the years read with the chosen registration, if it has one
    for score, (other, other_year), _, _, _ in ranked:
        if year and other == text and other_year:
            years[other_year] = years.get(other_year, 0.0) + score
    longest = formats.LONGEST_ALTERNATIVE
    candidates = candidates[:1] + [(t, c) for t, c in candidates[1:] if len(t) <= longest]
    return PlateRead(
        text=text,
        confidence=confidence,
        candidates=tuple(Candidate(t, c) for t, c in candidates),
        region=formats.plate_region(lines, region) if parsed else "unknown",
        year=year,
        year_candidates=tuple(
            Candidate(y, score / by_text[text]) for y, score in sorted(years.items(), key=lambda ys: -ys[1])
        ),
        layout=layout,
        format=parsed.format if parsed else None,
    )
