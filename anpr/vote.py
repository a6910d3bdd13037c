"""One read per vehicle: the plate is read on many frames; the reads vote, each weighted by its own
confidence. The consensus confidence is the winner's mean confidence times its share of the vote,
so one lucky read, or a split vote, does not look certain. A Punjab plate's year is voted the same
way among the winner's reads, and its share of them multiplies the confidence too: each frame's
confidence is that of text and year together, and the challan prints the year.

The years an officer sees beside it pool each frame's own year candidates the same way.

The alternatives an officer sees pool every frame's own candidates, not only the texts that won a
frame: a character the reader always doubted (O or Q on a blurred plate) is offered even when no
single frame chose it. They are ranked by their probability summed over the frames, each with the
winner's confidence times its mass relative to the winner's (never more than the winner's).

Only plausible reads vote (anpr.plates.unread): a frame's junk read (a text that fits no layout of
the site's region, or one under the unread floor) counts as a frame that read nothing, as an empty
read does, and the consensus passes the same check. A track whose frames read only junk gets an
unread plate: empty text, the junk vote's confidence, and its alternatives that fit a layout."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace

from anpr.plates.unread import checked, plausible
from anpr.types import Candidate, PlateRead

MAX_CANDIDATES = 5


def vote_plate(reads: Sequence[PlateRead], region: str = "auto") -> PlateRead | None:
    """The consensus of a track's reads of a plate of `region` (checked: unread when implausible);
    None when no read had any text."""
    texted = [r for r in reads if r.text]
    if not texted:
        return None
    return checked(_consensus([r for r in texted if plausible(r, region)] or texted), region)


def _consensus(texted: Sequence[PlateRead]) -> PlateRead:
    """The confidence-weighted vote of reads that all have text."""
    weight: dict[str, float] = defaultdict(float)
    count: Counter[str] = Counter()
    for read in texted:
        weight[read.text] += max(read.confidence, 1e-6)
        count[read.text] += 1
    total = sum(weight.values())
    # ties on weight go to the text read more often, then to the alphabetically first (stable)
    winner = min(weight, key=lambda t: (-weight[t], -count[t], t))
    share = weight[winner] / total
    mean_conf = weight[winner] / count[winner]
    year_weight: dict[str, float] = defaultdict(float)
    for read in texted:
        if read.text == winner and read.year:
            year_weight[read.year] += max(read.confidence, 1e-6)
    year = min(year_weight, key=lambda y: (-year_weight[y], y)) if year_weight else None
    year_share = year_weight[year] / sum(year_weight.values()) if year else 1.0
    confidence = mean_conf * share * year_share
    mass = defaultdict(float, weight)  # each frame's own read at its confidence, plus its runners-up
    for read in texted:
        for candidate in read.candidates:
            if candidate.text and candidate.text != read.text:
                mass[candidate.text] += max(candidate.confidence, 0.0)
    others = sorted((t for t in mass if t != winner), key=lambda t: (-mass[t], t))[: MAX_CANDIDATES - 1]
    candidates = (Candidate(winner, round(confidence, 6)),) + tuple(
        Candidate(text, round(confidence * min(1.0, mass[text] / mass[winner]), 6)) for text in others
    )
    best = max((r for r in texted if r.text == winner), key=lambda r: r.confidence)
    year = year or best.year
    return replace(
        best,
        confidence=confidence,
        candidates=candidates,
        year=year,
        year_candidates=_years(texted, winner, year),
    )


def _years(reads: Sequence[PlateRead], winner: str, year: str | None) -> tuple[Candidate, ...]:
    """The years the winner's frames read, each frame's own year candidates (or its year) weighted by
    its confidence; the voted year first, each with its share of that mass. None for a plate voted
    without a year."""
    if not year:
        return ()
    mass: dict[str, float] = defaultdict(float)
    for read in reads:
        if read.text != winner:
            continue
        weight = max(read.confidence, 1e-6)
        for candidate in read.year_candidates or ((Candidate(read.year, 1.0),) if read.year else ()):
            mass[candidate.text] += weight * candidate.confidence
    total = sum(mass.values())
    if not total:
        return ()
    ranked = sorted(mass, key=lambda y: (y != year, -mass[y], y))
    return tuple(Candidate(y, round(mass[y] / total, 6)) for y in ranked)


def vote_label(labels: Sequence[str | None], weights: Sequence[float] | None = None) -> str | None:
    """Weighted majority of per-frame labels (vehicle type, colour); None when there are none."""
    tally: dict[str, float] = defaultdict(float)
    for i, label in enumerate(labels):
        if label:
            tally[label] += weights[i] if weights is not None else 1.0
    if not tally:
        return None
    return sorted(tally, key=lambda k: (-tally[k], k))[0]


def settled(reads: Sequence[PlateRead], count: int = 3, share: float = 0.75) -> bool:
    """True once `count` reads agree on one text and it holds `share` of the texted reads: more
    frames would not change the vote."""
    texts = Counter(r.text for r in reads if r.text)
    if not texts:
        return False
    top, n = texts.most_common(1)[0]
    return n >= count and n / sum(texts.values()) >= share
