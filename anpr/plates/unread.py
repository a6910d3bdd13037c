"""Whether a read may be recorded as a plate at all, and the one place that turns one that may not
into an unread read (empty text). A photo's reads and a track's vote both go through `checked`, so
a junk read (a grille, a sign, the unreadable plate of a car at the frame's edge: "T" at 0.0056)
never reaches a violation as a registration. See docs/notes/unread-floor.md."""

from __future__ import annotations

from dataclasses import replace

from anpr.plates.formats import parse
from anpr.types import PlateRead

# The shortest registration recorded. No layout reads fewer characters today; the rule stands on its
# own so that a looser layout added later cannot let a one-letter "plate" through.
MIN_REGISTRATION = 2

# Reads under this confidence are recorded as unread. Set on the training halves only
# (docs/notes/unread-floor.md): of the reads of things that are no plate, or of plates too blurred
# to read, that fit a layout, the surest was at 0.135; every right read of a labelled plate was at
# 0.41 or more, of another car's plate at 0.17 or more but one (0.02). The floor sits in that gap.
UNREAD_FLOOR = 0.15


def fits_layout(text: str, region: str = "auto") -> bool:
    """Whether `text` (a registration: series + number, A-Z0-9) fits a layout of `region`, or of
    any region with `auto`, and has at least MIN_REGISTRATION characters."""
    return len(text) >= MIN_REGISTRATION and parse(text, region) is not None


def plausible(read: PlateRead, region: str = "auto") -> bool:
    """Whether `read` may be recorded as a registration: its text fits a layout of `region`
    (fits_layout) and its confidence is UNREAD_FLOOR or more."""
    return read.confidence >= UNREAD_FLOOR and fits_layout(read.text, region)


def checked(read: PlateRead, region: str = "auto") -> PlateRead:
    """`read` as it may be recorded: unchanged when plausible (or already empty), else unread: empty
    text with no year, format or region (they were read off the text), its confidence kept (how
    unsure the reader was), and only those of its candidates that fit a layout of `region`, for an
    officer to pick from."""
    if not read.text or plausible(read, region):
        return read
    return replace(
        read,
        text="",
        year=None,
        year_candidates=(),
        format=None,
        region="unknown",
        candidates=tuple(c for c in read.candidates if fits_layout(c.text, region)),
    )
