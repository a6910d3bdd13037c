"""A tiny pattern language for plate layouts, compiled once to a regex and to per-position classes.

A pattern is tokens separated by spaces, with "/" between printed lines (top to bottom):

    "L{2,3}=series D{2}=year / D{1,4}=number L{0,1}=suffix"

Classes: L a letter, D a digit, A either, Y a registration year (2 digits, or 4 starting 19/20; the
field keeps the last two). A class may be narrowed to the characters a format uses there:
"L[ABCEHJKLMPSTUZ]" is a Czech region letter. `=field` names what the characters are: series,
year, number (the default), suffix (printed after the number but not part of the registration) or
age (a GB age identifier, checked against the date and kept as the start of the number). The
registration text is the series, age and number characters in printed order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import product

CLASS_REGEX = {"L": "[A-Z]", "D": "[0-9]", "A": "[A-Z0-9]"}
FIELDS = ("series", "year", "number", "suffix", "age")
LINE_BREAK = "/"
# Two-digit registration years a plate can carry: Pakistani legacy series run from the 1970s to the
# present (pk-plates-dev: 2007-2020). "47" in "BS 47040" is a number, not a year.
FIRST_YEAR = 1970


def plausible_year(year: str, today: date | None = None) -> bool:
    """Whether a two-digit year (its last two digits) can be a registration year up to next year."""
    if len(year) != 2 or not year.isdigit():
        return False
    last = ((today or date.today()).year + 1) % 100
    value = int(year)
    return value <= last or value >= FIRST_YEAR % 100


def plausible_gb_age(age: str, today: date | None = None) -> bool:
    """Whether two digits are a GB age identifier issued by `today` (DVLA, since September 2001):
    the year's last two digits from March (02 to 26 by 2026), the year + 50 from September (51 on)."""
    if len(age) != 2 or not age.isdigit():
        return False
    today = today or date.today()
    value, year = int(age), today.year % 100
    march = year if today.month >= 3 else year - 1
    september = 50 + (year if today.month >= 9 else year - 1)
    return 2 <= value <= march or 51 <= value <= september


_TOKEN = re.compile(
    r"^(?P<cls>[LDAY])(?:\[(?P<chars>[A-Z0-9]+)\])?(?:\{(?P<lo>\d+)(?:,(?P<hi>\d+))?\})?(?:=(?P<field>\w+))?$"
)


@dataclass(frozen=True)
class Token:
    cls: str  # L, D, A, Y or "/" (line break)
    lengths: tuple[int, ...]
    field: str
    chars: str = ""  # the only characters allowed here ("L[ABC]"), where the class is too wide

    def regex(self, index: int) -> str:
        if self.cls == LINE_BREAK:
            return LINE_BREAK
        if self.cls == "Y":
            body = "(?:19|20)?[0-9]{2}"
        else:
            allowed = f"[{self.chars}]" if self.chars else CLASS_REGEX[self.cls]
            body = f"{allowed}{{{min(self.lengths)},{max(self.lengths)}}}"
        return f"(?P<t{index}>{body})"


def parse_pattern(pattern: str) -> tuple[Token, ...]:
    tokens = []
    for word in pattern.split():
        if word == LINE_BREAK:
            tokens.append(Token(LINE_BREAK, (1,), ""))
            continue
        match = _TOKEN.match(word)
        if not match:
            raise ValueError(f"bad token {word!r} in plate pattern {pattern!r}")
        name = match["field"] or "number"
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r} in plate pattern {pattern!r}")
        if match["cls"] == "Y":
            lengths: tuple[int, ...] = (2, 4)
        else:
            lo = int(match["lo"] or 1)
            hi = int(match["hi"] or lo)
            lengths = tuple(range(lo, hi + 1))
        chars = match["chars"] or ""
        if chars and not re.fullmatch(CLASS_REGEX.get(match["cls"], "[0-9]") + "+", chars):
            raise ValueError(f"characters {chars!r} are not all of class {match['cls']} in {pattern!r}")
        tokens.append(Token(match["cls"], lengths, name, chars))
    return tuple(tokens)


@dataclass(frozen=True)
class Layout:
    """One way a plate format is printed. Several layouts may share a format name (the same plate
    with or without its year, say); `prior` is how plausible a text fitting it is as a plate."""

    format: str  # "<region>-...", e.g. "pk-punjab-legacy-2line"
    pattern: str
    prior: float
    province: str | None = None
    avoid: str = ""  # series letters reported as avoided in this (new) series
    tokens: tuple[Token, ...] = field(init=False, repr=False, compare=False)
    regex: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tokens = parse_pattern(self.pattern)
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "regex", re.compile("".join(t.regex(i) for i, t in enumerate(tokens))))

    @property
    def region(self) -> str:
        return self.format.split("-", 1)[0]

    @property
    def line_count(self) -> int:
        return 1 + sum(t.cls == LINE_BREAK for t in self.tokens)

    def fields(self, form: str) -> dict[str, str] | None:
        """{series, year, number, suffix, text} of `form` (normalised lines joined by "/"), or None."""
        match = self.regex.fullmatch(form)
        if not match:
            return None
        out = dict.fromkeys((*FIELDS, "text"), "")
        for i, token in enumerate(self.tokens):
            if token.cls == LINE_BREAK:
                continue
            value = match[f"t{i}"][-2:] if token.cls == "Y" else match[f"t{i}"]
            if token.field == "year" and not plausible_year(value):
                return None
            if token.field == "age" and not plausible_gb_age(value):
                return None
            out["number" if token.field == "age" else token.field] += value  # AB 12CDE: 12 opens it
            if token.field in ("series", "age", "number"):
                out["text"] += value
        return out

    def templates(self, length: int) -> list[tuple[tuple[str, str], ...]]:
        """Every (class, field) sequence of `length` characters this layout accepts; Y reads as D."""
        return _templates(self.tokens, length)


@cache
def _templates(tokens: tuple[Token, ...], length: int) -> list[tuple[tuple[str, str], ...]]:
    out = []
    for sizes in product(*(t.lengths for t in tokens)):
        if sum(sizes) != length:
            continue
        positions: list[tuple[str, str]] = []
        for token, size in zip(tokens, sizes, strict=True):
            cls = "D" if token.cls == "Y" else token.cls
            positions.extend([(cls, token.field)] * size)
        out.append(tuple(positions))
    return out
