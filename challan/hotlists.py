"""Hotlists: plates on named lists (stolen, wanted ...) that raise an alert when a camera reads them,
and the built-in `defaulters` list (plates with an unpaid challan past its due date, from the records
themselves). Adding, removing and importing write the audit log; entries are never deleted.

Matching tolerates the reader's usual mix-ups: a read matches a listed plate when it is the plate,
or differs from it only by confusable pairs (LOOKALIKE: 0/O, 1/I, 8/B, 5/S, 2/Z, the letter-digit
swaps anpr.plates.confusables rates 0.8 or more) in at most MAX_SWAPS places. The voted read and
its candidates at CANDIDATE_FLOOR or more are matched; the match is `exact` when the voted read is
the listed plate, else `fuzzy`."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import product
from pathlib import Path

from sqlmodel import Session, col, select

from anpr.errors import AnprError, InputError
from anpr.plates.confusables import LETTER_TO_DIGIT, MAX_SWAPS
from anpr.types import PlateRead
from challan.audit import log_change
from challan.crud import normalize_plate
from challan.errors import NotFoundError
from challan.models import Challan, HotlistEntry, Status, Violation, utcnow

DEFAULTERS = "defaulters"
# Alert kinds that are no hotlist (challan.alerts): no list may take their names.
CLONED_PLATE = "cloned_plate"
REGISTRY_MISMATCH = "registry_mismatch"
NON_STANDARD_PLATE = "non_standard_plate"
RESERVED = (DEFAULTERS, CLONED_PLATE, REGISTRY_MISMATCH, NON_STANDARD_PLATE)
LIST_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
EXACT, FUZZY = "exact", "fuzzy"
# A candidate under this confidence (the vote's share for it, anpr.vote) raises no alert: the vote's
# long tail holds a look-alike of almost any plate. The voted read itself always counts.
CANDIDATE_FLOOR = 0.05
# Letter <-> digit pairs a reader mixes up most (anpr.plates.confusables, factor 0.8 or more).
LOOKALIKE: dict[str, str] = {}
for _letter, _swaps in LETTER_TO_DIGIT.items():
    for _digit, _factor in _swaps:
        if _factor >= 0.8:
            LOOKALIKE[_letter], LOOKALIKE[_digit] = _digit, _letter
UNPAID = (Status.ISSUED.value, Status.UPHELD.value)  # a contest pending is not a default


@dataclass(frozen=True)
class Hit:
    """A read matching a listed plate."""

    plate: str  # as listed
    list_name: str
    reason: str
    match: str  # exact | fuzzy


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int

    def to_json(self) -> dict:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}


def valid_list(text: str) -> str:
    """A list's name as stored (lower case), or an InputError saying what a name may be."""
    name = (text or "").strip().lower()
    if name in RESERVED:
        raise InputError(f"list '{name}' is built in (alert kind); choose another name")
    if not LIST_PATTERN.match(name):
        raise InputError(f"list '{text}' is not 2-32 lower-case letters, digits, - or _ (e.g. stolen)")
    return name


def _reason(text: str) -> str:
    reason = " ".join((text or "").split())
    if not reason:
        raise InputError("reason is empty (say why the plate is listed)")
    if len(reason) > 500:
        raise InputError("reason is longer than 500 characters")
    return reason


def add_entry(session: Session, *, plate: str, list_name: str, reason: str, actor: str) -> str:
    """List `plate` on a list, or give an entry already there the new reason. Returns 'added',
    'updated' or 'unchanged'."""
    plate, name, reason = normalize_plate(plate), valid_list(list_name), _reason(reason)
    entry = _listed(session, plate=plate, name=name)
    if entry is None:
        entry = HotlistEntry(plate=plate, list_name=name, reason=reason, added_by=actor)
        session.add(entry)
        session.flush()
        log_change(
            session,
            actor=actor,
            action="list",
            entity="hotlist",
            entity_id=entry.id,
            changes={"plate": plate, "list": name, "reason": reason},
        )
        return "added"
    if entry.reason == reason:
        return "unchanged"
    log_change(
        session,
        actor=actor,
        action="update",
        entity="hotlist",
        entity_id=entry.id,
        changes={"reason": [entry.reason, reason]},
    )
    entry.reason = reason
    session.flush()
    return "updated"


def remove_entry(
    session: Session, *, plate: str, list_name: str | None = None, actor: str
) -> list[HotlistEntry]:
    """Take `plate` off one list, or off every list it is on; NotFoundError if it is on none."""
    plate = normalize_plate(plate)
    query = select(HotlistEntry).where(HotlistEntry.plate == plate, col(HotlistEntry.removed_at).is_(None))
    if list_name is not None:
        query = query.where(HotlistEntry.list_name == valid_list(list_name))
    entries = list(session.exec(query.order_by(col(HotlistEntry.id))))
    if not entries:
        where = f"list {list_name}" if list_name else "any list"
        raise NotFoundError(f"plate {plate} is not on {where}")
    now = utcnow()
    for entry in entries:
        entry.removed_at, entry.removed_by = now, actor
        log_change(
            session,
            actor=actor,
            action="unlist",
            entity="hotlist",
            entity_id=entry.id,
            changes={"plate": plate, "list": entry.list_name},
        )
    session.flush()
    return entries


def list_entries(session: Session, *, list_name: str | None = None) -> list[HotlistEntry]:
    """The plates listed now, by list then plate."""
    query = select(HotlistEntry).where(col(HotlistEntry.removed_at).is_(None))
    if list_name is not None:
        query = query.where(HotlistEntry.list_name == list_name.strip().lower())
    return list(session.exec(query.order_by(col(HotlistEntry.list_name), col(HotlistEntry.plate))))


def _listed(session: Session, *, plate: str, name: str) -> HotlistEntry | None:
    query = select(HotlistEntry).where(
        HotlistEntry.plate == plate, HotlistEntry.list_name == name, col(HotlistEntry.removed_at).is_(None)
    )
    return session.exec(query).first()


# --- import ------------------------------------------------------------------------------------------

COLUMNS = ("plate", "list", "reason")


def read_csv(path: Path | str) -> list[tuple[str, str, str]]:
    """Rows (plate, list, reason), every one checked; InputError '<file> line N: ...' on the first bad
    one. A first row `plate,list,reason` is a header; without it the columns are in that order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    rows: list[tuple[str, str, str]] = []
    first_line: dict[tuple[str, str], int] = {}
    reader = csv.reader(text.splitlines())
    for number, row in enumerate(reader, start=1):
        if not any(cell.strip() for cell in row):
            continue
        if number == 1 and [c.strip().lower() for c in row] == list(COLUMNS):
            continue
        if len(row) != len(COLUMNS):
            raise InputError(f"{path} line {number}: expected 3 fields (plate,list,reason), found {len(row)}")
        try:
            plate, name, reason = normalize_plate(row[0]), valid_list(row[1]), _reason(row[2])
        except AnprError as exc:
            raise InputError(f"{path} line {number}: {exc}") from None
        if (plate, name) in first_line:
            earlier = first_line[plate, name]
            raise InputError(f"{path} line {number}: {plate} on {name} repeats line {earlier}")
        first_line[plate, name] = number
        rows.append((plate, name, reason))
    if not rows:
        raise InputError(f"{path}: no rows (expected plate,list,reason)")
    return rows


def import_csv(session: Session, *, path: Path | str, actor: str) -> ImportResult:
    """Check the whole file, then add or update each entry (flushed, not committed)."""
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    for plate, name, reason in read_csv(path):
        counts[add_entry(session, plate=plate, list_name=name, reason=reason, actor=actor)] += 1
    return ImportResult(**counts)


# --- matching ----------------------------------------------------------------------------------------


def lookalikes(text: str) -> set[str]:
    """`text` and every text that differs from it only by LOOKALIKE pairs, in at most MAX_SWAPS
    places ('LEB5789' -> LEB5789, LE85789, LEBS789, LE8S789 ...)."""
    options = [(char, LOOKALIKE[char]) if char in LOOKALIKE else (char,) for char in text]
    out = set()
    for chars in product(*options):
        variant = "".join(chars)
        if sum(a != b for a, b in zip(variant, text, strict=True)) <= MAX_SWAPS:
            out.add(variant)
    return out


def read_texts(read: PlateRead | None, floor: float = CANDIDATE_FLOOR) -> list[str]:
    """What a read offers to match: the voted text (if any), then its candidates at `floor` or more."""
    if read is None:
        return []
    texts = [read.text] if read.text else []
    texts += [c.text for c in read.candidates if c.text and c.confidence >= floor and c.text not in texts]
    return texts


def hits(session: Session, *, read: PlateRead | None, day: date) -> list[Hit]:
    """The listed plates `read` matches (hotlists, and the defaulters as of `day`), exact first."""
    wanted: set[str] = set()
    for text in read_texts(read):
        wanted |= lookalikes(text)
    if not wanted or read is None:
        return []
    found = [
        Hit(e.plate, e.list_name, e.reason, EXACT if e.plate == read.text else FUZZY)
        for e in session.exec(
            select(HotlistEntry).where(
                col(HotlistEntry.plate).in_(sorted(wanted)), col(HotlistEntry.removed_at).is_(None)
            )
        )
    ]
    found += [
        Hit(plate, DEFAULTERS, reason, EXACT if plate == read.text else FUZZY)
        for plate, reason in defaulters(session, plates=wanted, day=day).items()
    ]
    return sorted(found, key=lambda h: (h.match != EXACT, h.list_name, h.plate))


def defaulters(session: Session, *, plates: Iterable[str], day: date) -> dict[str, str]:
    """Those of `plates` with a challan issued (or upheld on contest) and unpaid past its due date on
    `day`, each with the reason an alert gives: how many, and the oldest's number and due date."""
    query = (
        select(col(Challan.plate), col(Challan.number), col(Challan.due_on))
        .join(Violation, col(Violation.id) == col(Challan.violation_id))
        .where(
            col(Challan.plate).in_(sorted(set(plates))),
            col(Violation.status).in_(UNPAID),
            col(Challan.due_on) < day,
        )
        .order_by(col(Challan.due_on), col(Challan.number))
    )
    owed: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for plate, number, due_on in session.exec(query):
        owed[plate].append((number, due_on))
    reasons = {}
    for plate, challans in owed.items():
        number, due_on = challans[0]
        more = f" and {len(challans) - 1} more" if len(challans) > 1 else ""
        reasons[plate] = f"unpaid challan {number} due {due_on.isoformat()}{more}"
    return reasons
