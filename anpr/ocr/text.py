"""From the raw lines a text engine returns to a PlateRead: normalise, drop what is not plate text
(state names, 'PUNJAB', 'ICT-ISLAMABAD'), rank by the region's plate grammar."""

from __future__ import annotations

from anpr.plates.formats import normalise, rerank
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
    return plate_read_from_ranked(ranked, region, layout_hint=None)


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
