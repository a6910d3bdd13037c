"""Characters a reader confuses, and the swaps a layout's letter/digit positions call for.

Each swap carries a factor in (0, 1]: how likely the printed character is the swapped one given the
reader saw the original (closer shapes, higher factor). Values are hand-set from the usual OCR
confusions on plate fonts (0/O/D/Q, 1/I/L, 7/T, 8/B, 5/S, 2/Z, 6/G, 4/A), not measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product

# letter seen where the layout wants a digit
LETTER_TO_DIGIT: dict[str, tuple[tuple[str, float], ...]] = {
    "O": (("0", 0.9),),
    "D": (("0", 0.7),),
    "Q": (("0", 0.6),),
    "U": (("0", 0.4),),
    "I": (("1", 0.9),),
    "L": (("1", 0.6),),
    "J": (("1", 0.4),),
    "T": (("7", 0.6),),
    "Z": (("2", 0.8),),
    "S": (("5", 0.8),),
    "B": (("8", 0.8),),
    "G": (("6", 0.7),),
    "A": (("4", 0.6),),
}
# digit seen where the layout wants a letter
DIGIT_TO_LETTER: dict[str, tuple[tuple[str, float], ...]] = {
    "0": (("O", 0.9), ("D", 0.7), ("Q", 0.5)),
    "1": (("I", 0.9), ("L", 0.6)),
    "7": (("T", 0.6),),
    "2": (("Z", 0.8),),
    "5": (("S", 0.8),),
    "8": (("B", 0.8),),
    "6": (("G", 0.7),),
    "4": (("A", 0.6),),
}
# a letter a new series avoids, read in its series: the look-alike letter it more likely is
AVOIDED_LOOKALIKE: dict[str, tuple[tuple[str, float], ...]] = {
    "U": (("V", 0.6),),
    "O": (("D", 0.5), ("Q", 0.3)),
}
# Pairs that many plate fonts print with one glyph (Slovak, Czech and several US states draw the
# letter O and the digit zero alike): the pixels cannot tell them apart, so where a layout asks for
# the other one the format decides, not the reader's certainty (anpr.ocr.lines.with_variants).
SAME_GLYPH = frozenset({("0", "O"), ("O", "0")})
MAX_SWAPS = 3  # more than this many changed characters is a different plate, not a misread


def _options(char: str, cls: str, field: str, avoid: str) -> list[tuple[str, float]] | None:
    """Characters this position may hold, with factors; None when it cannot fit `cls`."""
    if cls == "/":
        return [(char, 1.0)] if char == "/" else None
    if cls == "L" and char.isdigit():
        return list(DIGIT_TO_LETTER.get(char, ())) or None
    if cls == "D" and char.isalpha():
        return list(LETTER_TO_DIGIT.get(char, ())) or None
    if field == "series" and char in avoid:
        return [(char, 1.0), *AVOIDED_LOOKALIKE.get(char, ())]
    return [(char, 1.0)]


def same_glyph_swaps(text: str, variant: str) -> bool:
    """True when `variant` differs from `text` (same length) only by same-glyph swaps (SAME_GLYPH)."""
    if len(text) != len(variant):
        return False
    pairs = [(a, b) for a, b in zip(text, variant, strict=True) if a != b]
    return bool(pairs) and all(pair in SAME_GLYPH for pair in pairs)


def substitutions(
    form: str, template: tuple[tuple[str, str], ...], avoid: str = ""
) -> Iterator[tuple[str, float]]:
    """Texts made from `form` by swaps that fit `template` ((class, field) per position), each with the
    product of its swap factors; `form` itself is not yielded."""
    if len(form) != len(template):
        return
    choices = []
    for char, (cls, field) in zip(form, template, strict=True):
        options = _options(char, cls, field, avoid)
        if options is None:
            return
        choices.append(options)
    required = sum(all(c != char for c, _ in options) for options, char in zip(choices, form, strict=True))
    if required > MAX_SWAPS:
        return
    for picked in product(*choices):
        text = "".join(char for char, _ in picked)
        swaps = sum(a != b for a, b in zip(text, form, strict=True))
        if 0 < swaps <= MAX_SWAPS:
            factor = 1.0
            for _, f in picked:
                factor *= f
            yield text, factor
