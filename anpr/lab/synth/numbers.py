"""Random registrations that follow each region's numbering habits."""

from __future__ import annotations

import string

import numpy as np

LETTERS = string.ascii_uppercase
# I, O and U are avoided in new Pakistani series but survive on old plates: a prior, not a rule.
_PK_LETTER_P = np.array([0.3 if c in "IOU" else 1.0 for c in LETTERS])
_PK_LETTER_P /= _PK_LETTER_P.sum()

PUNJAB_DISTRICTS = ("LE", "RI", "FD", "FS", "MN", "GA", "SK", "SG", "BW", "GT", "SW", "JH", "DG", "RY")
KPK_SERIES = ("PR", "PRA", "PRB", "PRC", "MR", "KT", "SWT", "ABT", "MDN", "BNU", "DIK", "KHT")
BALOCHISTAN_SERIES = ("QA", "QTA", "QAB", "BE", "BDA", "GDR", "SBI", "LB")
ICT_SERIES = ("I", "IDA", "IDB", "ICT", "AMD", "AAA", "ABF", "ACK", "AKL", "ALP")


def letters(rng: np.random.Generator, n: int, pk: bool = True) -> str:
    p = _PK_LETTER_P if pk else None
    return "".join(rng.choice(list(LETTERS), size=n, p=p))


def digits(rng: np.random.Generator, n: int, leading_zero: bool = False) -> str:
    first = str(rng.integers(0 if leading_zero else 1, 10))
    return first + "".join(str(d) for d in rng.integers(0, 10, n - 1))


def pk_number(rng: np.random.Generator, lo: int = 1, hi: int = 4) -> str:
    """1-4 digits without a leading zero, longer numbers more common (as on the road)."""
    sizes = np.arange(lo, hi + 1)
    p = np.array([0.05, 0.12, 0.33, 0.5][lo - 1 : hi])
    return digits(rng, int(rng.choice(sizes, p=p / p.sum())))


def year(rng: np.random.Generator) -> str:
    return f"{int(rng.choice([rng.integers(0, 21), rng.integers(90, 100)], p=[0.85, 0.15])):02d}"


def punjab_series(rng: np.random.Generator) -> str:
    u = rng.random()
    if u < 0.45:
        return "LE" + letters(rng, 1)
    if u < 0.6:
        return str(rng.choice(PUNJAB_DISTRICTS))
    if u < 0.85:
        return str(rng.choice(PUNJAB_DISTRICTS)) + letters(rng, 1)
    return letters(rng, int(rng.choice([2, 3], p=[0.3, 0.7])))


def sindh_series(rng: np.random.Generator) -> str:
    """Sindh private series run AAA..BZZ; older ones have two letters and Karachi's one."""
    u = rng.random()
    if u < 0.65:
        return str(rng.choice(list("AB"), p=[0.7, 0.3])) + letters(rng, 2)
    if u < 0.9:
        return letters(rng, 2)
    return letters(rng, 1)


def us_text(rng: np.random.Generator) -> tuple[str, str]:
    """(printed with separators, label) in common state patterns."""
    pattern = str(
        rng.choice(
            [
                "LLL-NNNN",
                "NLLL-NNN",
                "LLL-NNN",
                "LLN LLN",
                "NNN LLL",
                "LL NNNN",
                "NLL LNNN",
                "LLLLLL",
                "LL NNN",
                "NLLNN",
            ]
        )
    )
    out = []
    for p in pattern:
        out.append(letters(rng, 1, pk=False) if p == "L" else digits(rng, 1, True) if p == "N" else p)
    printed = "".join(out)
    sep = str(rng.choice(["-", " ", "*", ""], p=[0.28, 0.28, 0.3, 0.14]))  # "*": a state graphic
    printed = printed.replace("-", sep).replace(" ", sep if sep != "-" else " ")
    return printed, "".join(c for c in printed if c.isalnum())


EU_COUNTRIES = ("D", "F", "NL", "SK", "PL", "GB", "I", "E", "CZ", "A")


# Per country: printed pattern, L = letter, N = digit, a digit after a letter class sets a random
# count range ("L13" = 1 to 3 letters); '*' is an emblem or sticker between groups.
EU_PATTERNS = {
    "D": ("L13-L12 N14", "L13*L12 N14"),
    "F": ("L2-N3-L2",),
    "NL": ("N2-L3-N1", "L2-N3-L1", "N1-L3-N2"),
    "SK": ("L2-N3L2", "L2*N3L2"),
    "PL": ("L23 N45",),
    "GB": ("L2N2 L3",),
    "I": ("L2 N3L2",),
    "E": ("N4 L3",),
    "CZ": ("N1L1N1 N4",),
    "A": ("L12-N35L01", "L12*N35L01"),
}


def eu_text(rng: np.random.Generator, country: str) -> str:
    """Printed text with separators, following one of the country's patterns; 5 to 8 characters."""
    while True:
        printed = _from_pattern(rng, str(rng.choice(EU_PATTERNS[country])))
        if 5 <= sum(c.isalnum() for c in printed) <= 8:
            return printed


def _from_pattern(rng: np.random.Generator, pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        kind = pattern[i]
        if kind in "LN":
            ranged = i + 2 < len(pattern) and pattern[i + 2].isdigit()
            lo, hi = int(pattern[i + 1]), int(pattern[i + 2 if ranged else i + 1])
            count = int(rng.integers(lo, hi + 1))
            out.append(
                letters(rng, count, pk=False) if kind == "L" else digits(rng, count, True) if count else ""
            )
            i += 3 if ranged else 2
        else:
            out.append(kind)
            i += 1
    return "".join(out)


def br_old(rng: np.random.Generator) -> str:
    return letters(rng, 3, pk=False) + digits(rng, 4, True)


def br_mercosur(rng: np.random.Generator) -> str:
    return letters(rng, 3, pk=False) + digits(rng, 1, True) + letters(rng, 1, pk=False) + digits(rng, 2, True)


# --- US registrations for the issue #28 designs (anpr.lab.synth.us) ---------------------------------
# Serial shapes of common states (L letter, N digit, space or '-' a printed gap).
US_SERIALS = (
    "NLLLNNN", "LLL-NNNN", "LLL NNNN", "LLL-NNN", "NNN LLL", "LLN LLN", "LLN-LLN", "LL NNNN", "NLL LNNN",
    "LL-NNNNN", "NNN-LLL", "LLLNNN", "NLLNNN", "LNN LLL",
)  # fmt: skip
# Pairs the reader confuses on small US plates (issue #28: N/W, M/H, S/5, F/P; 0/O, 8/B, 1/I). Both
# members go into one registration, often side by side, so the reader learns the difference rather
# than the prior; a plain random serial holds a given pair in only about 1 plate of 40.
LOOKALIKES = ("NW", "MH", "S5", "FP", "0O", "8B", "1I")
LOOKALIKE_SHARE = 0.4
# A character printed twice in a row: a CTC reader must put a blank between the two or read it once,
# and a small plate's blur closes that gap (issue #28: "a repeated character is read once").
DOUBLED_SHARE = 0.3
_VOWELS, _CONSONANTS = "AEIOUY", "BCDFGHJKLMNPRSTVWXZ"
_LEET = {"E": "3", "A": "4", "O": "0", "S": "5", "B": "8", "I": "1", "T": "7", "G": "6"}


def us_serial(rng: np.random.Generator) -> str:
    """A state-issued serial with its printed gap ('-' or ' '); lookalikes and doubles at their shares."""
    shape = str(rng.choice(US_SERIALS))
    chars = [
        letters(rng, 1, pk=False) if c == "L" else digits(rng, 1, True) if c == "N" else c for c in shape
    ]
    slots = {kind: [i for i, c in enumerate(shape) if c == kind] for kind in "LN"}
    if rng.random() < LOOKALIKE_SHARE:
        _plant_lookalike(rng, chars, slots)
    if rng.random() < DOUBLED_SHARE:
        kind = "L" if not slots["N"] or (slots["L"] and rng.random() < 0.5) else "N"
        pairs = [i for i in slots[kind] if i + 1 in slots[kind]]
        if pairs:
            i = int(rng.choice(pairs))
            chars[i + 1] = chars[i]
    return "".join(chars)


def _plant_lookalike(rng: np.random.Generator, chars: list[str], slots: dict[str, list[int]]) -> None:
    """Put both characters of one lookalike pair into the serial, each where its class may stand."""
    pair = str(rng.choice(LOOKALIKES))
    free = {kind: list(slots[kind]) for kind in "LN"}
    for char in rng.permutation(list(pair)):
        kind = "N" if char.isdigit() else "L"
        if free[kind]:
            i = int(rng.choice(free[kind]))
            free[kind].remove(i)
            chars[i] = str(char)


def us_vanity(rng: np.random.Generator, mixed: bool = False) -> str:
    """A personalised plate of 5-8 characters: letters only (a made-up word, doubled letters as in
    LLOOKK, a repeated syllable as in BEEBEE) or, `mixed`, with digits standing in for letters (GR8).
    Printed without a gap, as most are."""
    while True:
        u = rng.random()
        if u < 0.25:  # every letter doubled
            text = "".join(c * 2 for c in letters(rng, int(rng.integers(3, 5)), pk=False))
        elif u < 0.45:  # a syllable said twice
            text = _word(rng, 3) * 2 if rng.random() < 0.7 else _word(rng, 2) * 3
        else:
            text = _word(rng, int(rng.integers(5, 9)))
            if rng.random() < LOOKALIKE_SHARE:  # a lookalike letter pair in place of two letters
                pair = str(rng.choice([p for p in LOOKALIKES if p.isalpha()]))
                i = int(rng.integers(0, len(text) - 1))
                text = text[:i] + "".join(rng.permutation(list(pair))) + text[i + 2 :]
        if mixed:
            text = _with_digits(rng, text)
        if 5 <= len(text) <= 8 and (not mixed or any(c.isdigit() for c in text)):
            return text


def _word(rng: np.random.Generator, n: int) -> str:
    """Pronounceable letters (consonants and vowels alternating, now and then two consonants or a
    doubled one), like the words vanity plates spell."""
    out: list[str] = []
    vowel = rng.random() < 0.3
    while len(out) < n:
        out.append(str(rng.choice(list(_VOWELS if vowel else _CONSONANTS))))
        if not vowel and rng.random() < 0.1:
            out.append(out[-1])
        vowel = not vowel if rng.random() < 0.8 else vowel
    return "".join(out[:n])


def _with_digits(rng: np.random.Generator, text: str) -> str:
    """Digits where they sound or look like letters (GR8, L8TR, 2FAST4U, B4)."""
    chars = [_LEET.get(c, c) if rng.random() < 0.35 else c for c in text]
    if not any(c.isdigit() for c in chars):
        word = "".join(chars)
        return str(rng.choice([f"{word[:6]}{rng.integers(1, 100)}", f"2{word[:6]}", f"{word[:5]}4U"]))
    return "".join(chars)
