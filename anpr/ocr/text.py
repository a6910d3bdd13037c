"""From the raw lines a text engine returns to a PlateRead: normalise, drop what is not plate text
(state names, 'PUNJAB', 'ICT-ISLAMABAD'), rank by the region's plate grammar."""

from __future__ import annotations

from dataclasses import replace

from anpr.plates.formats import CUE_WORDS, ParsedPlate, normalise, parse, plate_region, rerank
from anpr.types import Candidate, PlateRead

MAX_CANDIDATES = 5


def plate_read_from_lines(lines: list[tuple[str, float]], region: str = "auto") -> PlateRead:
    """lines: (text, confidence) top to bottom. Tries every contiguous run of lines as the plate
    (one line, or two for stacked plates) and lets the grammar rank them."""
    cleaned = [(normalise(text), conf) for text, conf in lines]
    cleaned = [(text, conf) for text, conf in cleaned if text]
    if not cleaned:
        return PlateRead(text="", confidence=0.0, region=region)
    hypotheses: list[tuple[list[str], float]] = []
    for start in range(len(cleaned)):
        for stop in range(start + 1, min(start + 2, len(cleaned)) + 1):
            run = cleaned[start:stop]
            conf = min(c for _, c in run)
            hypotheses.append(([t for t, _ in run], conf))
            if len(run) > 1:
                hypotheses.append((["".join(t for t, _ in run)], conf))
    ranked = rerank(hypotheses, region)
    read = plate_read_from_ranked(ranked, region, layout_hint=None)
    chosen = ranked[0][0] if ranked else None
    if chosen is None:
        return read
    return replace(read, region=plate_region(_printed(chosen, hypotheses, cleaned, region), region))


def _printed(
    chosen: ParsedPlate, hypotheses: list, cleaned: list[tuple[str, float]], region: str
) -> list[str]:
    """The lines the chosen reading was read from (the surest such), or its registration alone for
    a look-alike swap of them, with the surest province or state word read on the plate: it names
    the plate's region whichever lines the reading took."""
    cue = [text for text, _ in sorted(cleaned, key=lambda line: -line[1]) if text in CUE_WORDS][:1]
    for lines, _ in sorted(hypotheses, key=lambda h: -h[1]):
        got = parse(lines, region)
        if got and (got.text, got.year) == (chosen.text, chosen.year):
            return [*lines, *cue]
    return [chosen.text, *cue]


def plate_read_from_ranked(ranked, region: str, layout_hint: str | None) -> PlateRead:
    """ranked: [(parsed | None, text, score)] best first, as formats.rerank returns."""
    seen: dict[str, float] = {}
    for parsed, text, score in ranked:
        key = parsed.text if parsed else text
        if key and key not in seen:
            seen[key] = score
    candidates = tuple(Candidate(t, s) for t, s in list(seen.items())[:MAX_CANDIDATES])
    if not ranked or not candidates:
        return PlateRead(text="", confidence=0.0, region=region)
    parsed, text, score = ranked[0]
    return PlateRead(
        text=parsed.text if parsed else text,
        confidence=float(score),
        candidates=candidates,
        region=parsed.region if parsed else region,
        year=parsed.year if parsed else None,
        layout=layout_hint or "one-line",
        format=parsed.format if parsed else None,
    )
