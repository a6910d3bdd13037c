"""Plate grammars by region: parse a read into registration + year, score how plate-like a text is,
and re-rank a reader's candidates with that prior (fixing letter/digit confusions on the way).

The grammar is the LAYOUTS table below: one row per printed layout (pattern language in
anpr.plates.grammar), with a prior and, for Pakistan, the province. Province words printed on the
plate ("PUNJAB", "ICT-ISLAMABAD", "SINDH", a US state) are not plate text: they are dropped from the
lines and used as a cue for the province or region.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from anpr.plates.confusables import substitutions
from anpr.plates.grammar import LINE_BREAK, Layout

REGIONS = ("pk", "us", "eu", "br")
DEFAULT_REGION = "pk"  # the project is Pakistani-first; guess_region's answer when nothing fits

# Pakistani facts from /work/shared/DESIGN.md ("Pakistani plates") and the labels of pk-plates-dev.
# Shapes that several provinces share (3 letters + 3 digits: Punjab universal, Sindh AHE-767, ICT
# AMD-868) are told apart only by a province word on the plate; without one the larger issuer wins.
LAYOUTS: tuple[Layout, ...] = (
    # Punjab legacy: LEH-07 / 5789 (2-3 letters, 2-digit registration year, 1-4 digits). A letter
    # printed after the number (LEB-17 4201 A) is not part of the registration (dataset labels).
    Layout("pk-punjab-legacy-2line", "L{2,3}=series D{2}=year / D{1,4}=number L{0,1}=suffix", 1.0, "punjab"),
    # ... with the year printed small between the lines (pk-plates-dev 171.jpg)
    Layout(
        "pk-punjab-legacy-2line", "L{2,3}=series / D{2}=year / D{1,4}=number L{0,1}=suffix", 0.9, "punjab"
    ),
    # ... with no year printed (LRP / 7230); motorcycles' stacked plates look the same. Pakistan
    # wins the tie with the stacked Brazilian layout below.
    Layout("pk-punjab-legacy-2line", "L{1,3}=series / D{1,4}=number L{0,1}=suffix", 0.9, "punjab"),
    # one-line legacy with its year inline: only when the digits (5-6) cannot all be the number
    Layout("pk-punjab-legacy-1line", "L{2,3}=series D{2}=year D{3,4}=number", 0.7, "punjab"),
    # Punjab universal (Aug 2020): 3 letters + 3 digits (cars) or 4 (two-wheelers), no year, no
    # district; I, O and U reported avoided in new series (a prior, not a rule).
    Layout("pk-punjab-universal", "L{3}=series D{3,4}=number", 0.9, "punjab", avoid="IOU"),
    # Sindh: AHE-767, AC-4903; year sometimes printed small (as 2012) at the top right
    Layout("pk-sindh", "L{1,3}=series D{1,4}=number", 0.8, "sindh"),
    Layout("pk-sindh", "Y=year / L{1,3}=series D{1,4}=number", 0.9, "sindh"),
    Layout("pk-sindh", "L{1,3}=series D{1,4}=number / Y=year", 0.9, "sindh"),
    # old Karachi: one letter + digits (C-1234, R-8501)
    Layout("pk-sindh-karachi", "L=series D{1,4}=number", 0.85, "sindh"),
    # Islamabad Capital Territory: AMD-868 with ICT-ISLAMABAD printed below
    Layout("pk-ict", "L{2,3}=series D{1,4}=number", 0.7, "ict"),
    # KPK and Balochistan: letters + digits; told apart only by the province word
    Layout("pk-kpk", "L{1,3}=series D{1,4}=number", 0.6, "kpk"),
    Layout("pk-balochistan", "L{1,3}=series D{1,4}=number", 0.6, "balochistan"),
    # anything else Pakistani-looking (TD-483-C style suffix letters, 4-letter series)
    Layout("pk-generic", "L{1,4}=series D{1,4}=number L{0,1}=suffix", 0.4),
    # US: states differ widely; California 1ABC234 and 3 letters + 4 digits are common
    Layout("us-california", "D L{3} D{3}", 0.6),
    Layout("us-3l4d", "L{3}=series D{4}", 0.5),
    Layout("us-generic", "A{2,8}", 0.3),
    # Europe: France (SIV) / Italy / Slovakia AB123CD, UK AB12CDE, Spain 1234BCD, Czechia 1A23456.
    # A GB plate's two digits are an age identifier (OY09 FEU): RK34OAO is no GB plate.
    Layout("eu-2l3d2l", "L{2}=series D{3} L{2}", 0.8),
    Layout("eu-uk", "L{2}=series D{2}=age L{3}", 0.8),
    Layout("eu-es", "D{4} L{3}", 0.7),
    # A Czech plate's second character is its region's letter, one of 14 (A Prague ... Z Zlin): no O.
    Layout("eu-cz", "D L[ABCEHJKLMPSTUZ] A D{4}", 0.6),
    Layout("eu-generic", "A{4,8}", 0.3),
    # Brazil: Mercosur ABC1D23 (from 2018) and the old ABC1234; motorcycles stack them on two lines.
    # Mercosur a shade below 1 so that an old plate read right outranks its 0->O "Mercosur" variant.
    Layout("br-mercosur", "L{3}=series D L D{2}", 0.95),
    Layout("br-mercosur", "L{3}=series / D L D{2}", 0.95),
    Layout("br-old", "L{3}=series D{4}", 0.9),
    Layout("br-old", "L{3}=series / D{4}", 0.9),
)

_US_STATES = (
    "ALABAMA ALASKA ARIZONA ARKANSAS CALIFORNIA COLORADO CONNECTICUT DELAWARE FLORIDA GEORGIA HAWAII "
    "IDAHO ILLINOIS INDIANA IOWA KANSAS KENTUCKY LOUISIANA MAINE MARYLAND MASSACHUSETTS MICHIGAN "
    "MINNESOTA MISSISSIPPI MISSOURI MONTANA NEBRASKA NEVADA NEWHAMPSHIRE NEWJERSEY NEWMEXICO NEWYORK "
    "NORTHCAROLINA NORTHDAKOTA OHIO OKLAHOMA OREGON PENNSYLVANIA RHODEISLAND SOUTHCAROLINA "
    "SOUTHDAKOTA TENNESSEE TEXAS UTAH VERMONT VIRGINIA WASHINGTON WESTVIRGINIA WISCONSIN WYOMING"
)
# Words printed on plates that are not registration text -> (region, province) cue.
CUE_WORDS: dict[str, tuple[str, str | None]] = {
    "PUNJAB": ("pk", "punjab"),
    "SINDH": ("pk", "sindh"),
    "KARACHI": ("pk", "sindh"),
    "ICT": ("pk", "ict"),
    "ISLAMABAD": ("pk", "ict"),
    "ICTISLAMABAD": ("pk", "ict"),
    "KPK": ("pk", "kpk"),
    "KHYBERPAKHTUNKHWA": ("pk", "kpk"),
    "NWFP": ("pk", "kpk"),
    "BALOCHISTAN": ("pk", "balochistan"),
    "BALUCHISTAN": ("pk", "balochistan"),
    "PAKISTAN": ("pk", None),
} | {state: ("us", None) for state in _US_STATES.split()}

# The longest registration any layout above reads (year and suffix are not registration text): 8.
LONGEST_REGISTRATION = max(
    sum(max(t.lengths) for t in lay.tokens if t.cls != LINE_BREAK and t.field not in ("year", "suffix"))
    for lay in LAYOUTS
)
# An alternative read longer than this is several printed lines joined (a state's name or a dealer's
# frame with the number: TEXASBGB3282TEXAS), not a plate to offer an officer. Room is left above
# LONGEST_REGISTRATION for plates of countries the grammar lacks (India's MH12AB1234 is 10).
LONGEST_ALTERNATIVE = max(LONGEST_REGISTRATION, 10)
NO_FORMAT_PRIOR = 0.05  # a text that fits no layout: unlikely, not impossible (damaged or odd plates)
SPLIT_FACTOR = 0.6  # a one-line layout read from several lines joined together
AVOIDED_FACTOR = 0.6  # a series with a letter its (new) series avoids
# Region not given: dropping a letter printed after the number of a one-line plate (a Pakistani
# suffix, TD-483-C) is right only for a Pakistani plate, and a registration shorter than the plate
# can be somebody else's; so that reading ranks below a foreign one that keeps every character
# (GT-679A: 0.4 x 0.5 < 0.3) unless a province word speaks for it. A two-line Punjab plate's own
# layout is Pakistani enough.
SUFFIX_FACTOR = 0.5
# a province word on the plate agrees / names another province / names another region
CUE_MATCH, CUE_MISMATCH, CUE_OTHER_REGION = 1.5, 0.5, 0.2
HINT_BOOST = 2.0  # guess_region: the hinted region's score is multiplied by this
MAX_VARIANTS_RERANK = 8  # confusable variants tried per reader candidate

Lines = tuple[str, ...]
Cue = tuple[str, str | None] | None


def check_region(region: str) -> str:
    """`region` where a reader can be told it (auto or one of REGIONS); ValueError naming the choices."""
    if region != "auto" and region not in REGIONS:
        raise ValueError(f"'{region}' is not one of auto, {', '.join(REGIONS)}")
    return region


def normalise(text: str) -> str:
    """Upper case, A-Z and 0-9 only: 'leh-07 5789' -> 'LEH075789'."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


@dataclass(frozen=True)
class ParsedPlate:
    text: str  # registration: series + number, A-Z0-9, year excluded (e.g. "LEH5789")
    year: str | None  # Pakistani 2-digit registration year, else None
    region: str  # "pk" | "us" | "eu" | "br"
    format: str  # e.g. "pk-punjab-legacy-2line"
    series: str = ""  # leading letters where the format has them
    number: str = ""


@cache
def layouts_for(region: str = "auto") -> tuple[Layout, ...]:
    """The layouts of a region ("pk"), or of a format family ("pk-sindh"); "auto" is all of them."""
    if region == "auto":
        return LAYOUTS
    chosen = tuple(lay for lay in LAYOUTS if lay.format == region or lay.format.startswith(region + "-"))
    if not chosen:
        raise ValueError(
            f"unknown plate region {region!r}: use auto, one of {REGIONS} or a format name prefix"
        )
    return chosen


def prepare(lines: str | Sequence[str]) -> tuple[Lines, Cue]:
    """Normalised non-empty lines without cue words, and the first cue word's (region, province). A
    single string is one line unless it holds newlines or '/' ('LEH-07/5789')."""
    raw = re.split(r"[\n/]", lines) if isinstance(lines, str) else list(lines)
    kept, cue = [], None
    for line in map(normalise, raw):
        if line in CUE_WORDS:
            cue = cue or CUE_WORDS[line]
        elif line:
            kept.append(line)
    return tuple(kept), cue


def _form(layout: Layout, lines: Lines) -> tuple[str | None, float]:
    """The string `layout` is matched against, and the factor for reading it that way."""
    if layout.line_count == len(lines):
        return LINE_BREAK.join(lines), 1.0
    if layout.line_count == 1 and len(lines) > 1:
        return "".join(lines), SPLIT_FACTOR
    return None, 0.0


def _cue_factor(layout: Layout, cue: Cue) -> float:
    if cue is None:
        return 1.0
    region, province = cue
    if layout.region != region:
        return CUE_OTHER_REGION
    if province is None or layout.province is None:
        return 1.0
    return CUE_MATCH if layout.province == province else CUE_MISMATCH


@lru_cache(maxsize=65536)
def scored(lines: Lines, cue: Cue = None, region: str = "auto") -> tuple[tuple[ParsedPlate, float], ...]:
    """Every reading of prepared `lines` as a plate of `region`, best first (ties: table order)."""
    out = []
    for layout in layouts_for(region):
        form, factor = _form(layout, lines)
        fields = layout.fields(form) if form is not None else None
        if fields is None:
            continue
        if set(fields["series"]) & set(layout.avoid):
            factor *= AVOIDED_FACTOR
        if fields["suffix"] and region == "auto" and layout.line_count == 1 and not (cue and cue[0] == "pk"):
            factor *= SUFFIX_FACTOR
        score = layout.prior * factor * _cue_factor(layout, cue)
        parsed = ParsedPlate(fields["text"], fields["year"] or None, layout.region, layout.format,
                             fields["series"], fields["number"])  # fmt: skip
        out.append((parsed, score))
    out.sort(key=lambda item: -item[1])  # before capping at 1, so a cue does not tie two layouts
    return tuple((parsed, min(1.0, score)) for parsed, score in out)


def parse_all(lines: str | Sequence[str], region: str = "auto") -> list[tuple[ParsedPlate, float]]:
    """Every reading of `lines` as a plate, with its format prior, best first."""
    return list(scored(*prepare(lines), region))


def parse(lines: str | Sequence[str], region: str = "auto") -> ParsedPlate | None:
    """The best reading of `lines` (text of each printed line, top to bottom) as a plate of `region`,
    or None when it fits none: parse(["LEH-07", "5789"]) -> text LEH5789, year 07."""
    readings = scored(*prepare(lines), region)
    return readings[0][0] if readings else None


def format_prior(lines: str | Sequence[str], region: str = "auto") -> float:
    """How plausible `lines` are as a plate of `region`: 1.0 for a strong specific layout, lower for
    generic ones, NO_FORMAT_PRIOR for text that fits nothing."""
    readings = scored(*prepare(lines), region)
    return readings[0][1] if readings else NO_FORMAT_PRIOR


def _best_score(lines: Lines, cue: Cue, region: str) -> float:
    readings = scored(lines, cue, region)
    return readings[0][1] if readings else NO_FORMAT_PRIOR


def _resplit(text: str, like: Lines) -> Lines:
    """`text` (the lines of `like` joined, with or without '/') cut back into lines like `like`."""
    if LINE_BREAK in text:
        return tuple(text.split(LINE_BREAK))
    out, start = [], 0
    for line in like:
        out.append(text[start : start + len(line)])
        start += len(line)
    return tuple(out)


def variants(lines: Lines, cue: Cue, region: str, max_variants: int) -> list[tuple[Lines, float]]:
    """Prepared `lines` with confusable characters swapped where a layout's letter/digit positions
    call for it, kept only when the result fits a better layout than the original; best first."""
    base = _best_score(lines, cue, region)
    found: dict[Lines, tuple[float, float]] = {}
    for layout in layouts_for(region):
        form, _ = _form(layout, lines)
        if form is None:
            continue
        for template in layout.templates(len(form)):
            for text, factor in substitutions(form, template, layout.avoid):
                swapped = _resplit(text, lines)
                score = _best_score(swapped, cue, region)
                if score > base and factor > found.get(swapped, (0.0, 0.0))[0]:
                    found[swapped] = (factor, score)
    ranked = sorted(found.items(), key=lambda item: -item[1][0] * item[1][1])
    return [(swapped, factor) for swapped, (factor, _) in ranked[:max_variants]]


def confusable_variants(text: str, region: str = "auto", max_variants: int = 16) -> list[tuple[str, float]]:
    """Texts made from `text` by swapping confusable characters (0/O/D/Q, 1/I/L, 8/B, 5/S, 2/Z, 6/G,
    4/A, U/V...) where the region's grammar wants the other class, each with its factor in (0, 1];
    only those fitting a better layout than `text`, ordered by factor x their format prior:
    confusable_variants("LEH57B9", "pk")[0] == ("LEH5789", 0.8). Lines are joined by '/' when `text`
    has several."""
    lines, cue = prepare(text)
    return [(LINE_BREAK.join(v), f) for v, f in variants(lines, cue, region, max_variants)]


def rerank(
    candidates: Sequence[tuple[str | Sequence[str], float]], region: str = "auto"
) -> list[tuple[ParsedPlate | None, str, float]]:
    """Reader candidates (text or lines, confidence) re-ranked by confidence x format prior, with
    confusion-fixed variants added: [(parsed or None, text, score)] best first. Readings of the same
    registration pool their scores; scores sum to the candidates' total confidence (at most 1), so
    they read as probabilities. Texts that fit no layout stay, ranked lower."""
    pooled: dict[tuple[str, str | None], list] = {}  # key -> [score, best part, parsed, text]
    for lines_in, confidence in candidates:
        lines, cue = prepare(lines_in)
        mine: dict[tuple[str, str | None], tuple[float, ParsedPlate | None, str]] = {}
        for option, factor in [(lines, 1.0), *variants(lines, cue, region, MAX_VARIANTS_RERANK)]:
            readings = scored(option, cue, region)
            parsed, prior = readings[0] if readings else (None, NO_FORMAT_PRIOR)
            text = parsed.text if parsed else "".join(option)
            key = (text, parsed.year if parsed else None)
            score = max(confidence, 0.0) * factor * prior
            if text and score >= mine.get(key, (-1.0,))[0]:
                mine[key] = (score, parsed, text)
        for key, (score, parsed, text) in mine.items():
            entry = pooled.setdefault(key, [0.0, -1.0, parsed, text])
            entry[0] += score
            if score > entry[1]:
                entry[1:] = [score, parsed, text]
    total = sum(entry[0] for entry in pooled.values())
    mass = min(1.0, sum(max(c, 0.0) for _, c in candidates))
    scale = mass / total if total > 0 else 0.0
    ranked = [(parsed, text, score * scale) for score, _, parsed, text in pooled.values()]
    ranked.sort(key=lambda item: -item[2])
    return ranked


def guess_region(text_or_lines: str | Sequence[str], hint: str = "auto") -> str:
    """The region whose best layout fits best (the hinted one's score doubled); the hint, a cue word's
    region or DEFAULT_REGION when nothing fits."""
    hinted = layouts_for(hint)[0].region if hint != "auto" else None
    lines, cue = prepare(text_or_lines)
    best: dict[str, float] = {}
    for parsed, score in scored(lines, cue, "auto"):
        boosted = score * (HINT_BOOST if parsed.region == hinted else 1.0)
        best[parsed.region] = max(best.get(parsed.region, 0.0), boosted)
    if not best:
        return hinted or (cue[0] if cue else DEFAULT_REGION)
    order = sorted(REGIONS, key=lambda r: r != hinted)
    return max(order, key=lambda r: best.get(r, -1.0))


def plate_region(lines: str | Sequence[str], region: str = "auto") -> str:
    """The region a plate read as `lines` belongs to, for telling a reader: the region asked for, or
    the one a province or state word on the plate names, else the only region with a layout the lines
    fit, generic ones aside; "?" where they fit layouts of several regions (ABC1234: Brazil, Punjab,
    Sindh, a US state) or only generic ones; "unknown" where they fit none. Not the region of the
    best reading, which ties go to in table order (Pakistan first)."""
    prepared, cue = prepare(lines)
    readings = scored(prepared, cue, region)
    if not readings:
        return "unknown"
    best = readings[0][0].region
    if region != "auto" or (cue and cue[0] == best):
        return best
    fitting = {parsed.region for parsed, _ in readings if not parsed.format.endswith("-generic")}
    return fitting.pop() if len(fitting) == 1 else "?"
