"""Read-only queries the portal needs beyond challan.crud: a plate's challans in one round trip (the
hot public look-up), the review queue (filtered) and the contest queue, the officers' search of issued
challans, and the dashboard's counts and sums."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, func, select

from challan.models import Challan, Payment, Site, Status, Vehicle, Violation

LOOKUP_LIMIT = 200  # a plate with more challans than this is shown its latest ones


@dataclass(frozen=True)
class ChallanRow:
    """What a list of challans shows: the challan's own fields and its violation's."""

    number: str
    plate: str
    issued_at: datetime
    issued_on: date
    due_on: date
    fine_pkr: int
    status: str
    code: str
    site_id: str
    site_name: str | None
    occurred_at: datetime


ROW_COLUMNS: tuple[Any, ...] = (  # SQLModel types the columns as their values
    Challan.number,
    Challan.plate,
    Challan.issued_at,
    Challan.issued_on,
    Challan.due_on,
    Challan.fine_pkr,
    Violation.status,
    Violation.code,
    Violation.site_id,
    Site.name,
    Violation.occurred_at,
)


def _rows_where(condition):
    return (
        select(*ROW_COLUMNS)
        .join(Violation, col(Violation.id) == col(Challan.violation_id))
        .join(Site, col(Site.id) == col(Violation.site_id), isouter=True)
        .where(condition)
        .order_by(col(Challan.issued_at).desc(), col(Challan.id).desc())
        .limit(sa.bindparam("limit"))
    )


# Built once: building a statement costs more CPU than running it (the look-up is the hot path).
PLATE_QUERY = _rows_where(col(Challan.plate).in_(sa.bindparam("plates", expanding=True)))
# The challans of every vehicle the registry has under one owner's CNIC.
OWNER_QUERY = _rows_where(
    col(Challan.plate).in_(select(Vehicle.plate).where(Vehicle.owner_cnic == sa.bindparam("cnic")))
)


def challans_for_plates(
    session: Session, *, plates: Sequence[str], limit: int = LOOKUP_LIMIT
) -> list[ChallanRow]:
    """The plates' challans (as issued, i.e. corrected where an officer corrected the read), latest
    first, with each one's current status and site: one indexed query, plain rows (no ORM objects)
    and no transaction around it (a single read needs none; it saves two round trips)."""
    return _read(session, PLATE_QUERY, {"plates": list(plates), "limit": limit})


def challans_for_owner(session: Session, *, cnic: str, limit: int = LOOKUP_LIMIT) -> list[ChallanRow]:
    """The challans of every vehicle registered to `cnic` (as stored, 12345-1234567-1), latest first."""
    return _read(session, OWNER_QUERY, {"cnic": cnic, "limit": limit})


def plates_of_owner(session: Session, *, cnic: str) -> list[str]:
    query = select(Vehicle.plate).where(Vehicle.owner_cnic == cnic).order_by(col(Vehicle.plate))
    return list(session.exec(query))


def _read(session: Session, query, params: dict) -> list[ChallanRow]:
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return [ChallanRow(*row) for row in session.exec(query, params=params)]


def count_by_status(session: Session, wanted: Status) -> int:
    return session.exec(select(func.count()).select_from(Violation).where(Violation.status == wanted)).one()


@dataclass(frozen=True)
class QueueFilter:
    """Which pending violations the review queue shows: at one site, of one violation, with the
    camera's read confidence within [min_confidence, max_confidence] (fractions, both inclusive);
    None is any."""

    site: str | None = None
    code: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None

    def conditions(self) -> list:
        found = [col(Violation.status) == Status.PENDING]
        if self.site:
            found.append(col(Violation.site_id) == self.site)
        if self.code:
            found.append(col(Violation.code) == self.code)
        if self.min_confidence is not None:
            found.append(col(Violation.plate_confidence) >= self.min_confidence)
        if self.max_confidence is not None:
            found.append(col(Violation.plate_confidence) <= self.max_confidence)
        return found


ANY_PENDING = QueueFilter()


def count_pending(session: Session, wanted: QueueFilter = ANY_PENDING) -> int:
    return session.exec(select(func.count()).select_from(Violation).where(*wanted.conditions())).one()


def pending_queue(
    session: Session, *, limit: int, offset: int = 0, wanted: QueueFilter = ANY_PENDING
) -> list[Violation]:
    """Pending violations (those `wanted`), oldest offence first, with their evidence and site loaded."""
    query = (
        select(Violation)
        .where(*wanted.conditions())
        # SQLModel types a relationship on the class as the related model, not its InstrumentedAttribute
        .options(selectinload(Violation.evidence), selectinload(Violation.site))  # type: ignore[arg-type]
        .order_by(col(Violation.occurred_at), col(Violation.id))
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(query))


def pending_sites(session: Session) -> list[str]:
    """The sites with a violation waiting for review, for the queue's site filter."""
    query = select(Violation.site_id).where(Violation.status == Status.PENDING).distinct()
    return sorted(session.exec(query))


# A challan still owed: issued, or upheld on contest, and not paid. Past its due date it is overdue.
UNPAID = (Status.ISSUED, Status.UPHELD)


@dataclass(frozen=True)
class ChallanSearch:
    """Issued challans an officer looks for: plate and number match any part (as stored: capitals,
    no spaces), site exactly, status a Status value or "overdue" (unpaid past its due date), and the
    day of issue within [issued_from, issued_to]; None is any."""

    plate: str | None = None
    number: str | None = None
    site: str | None = None
    status: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None

    def conditions(self, today: date) -> list:
        found = []
        if self.plate:
            found.append(col(Challan.plate).contains(self.plate, autoescape=True))
        if self.number:
            found.append(col(Challan.number).contains(self.number.upper(), autoescape=True))
        if self.site:
            found.append(col(Violation.site_id) == self.site)
        if self.status == "overdue":
            found += [col(Violation.status).in_(UNPAID), col(Challan.due_on) < today]
        elif self.status:
            found.append(col(Violation.status) == self.status)
        if self.issued_from:
            found.append(col(Challan.issued_on) >= self.issued_from)
        if self.issued_to:
            found.append(col(Challan.issued_on) <= self.issued_to)
        return found


def search_challans(
    session: Session, *, wanted: ChallanSearch, today: date, limit: int, offset: int = 0
) -> tuple[list[ChallanRow], int]:
    """One page of the challans `wanted`, latest issued first, and how many there are in all."""
    conditions = wanted.conditions(today)
    query = (
        sa.select(*ROW_COLUMNS)
        .join(Violation, col(Violation.id) == col(Challan.violation_id))
        .join(Site, col(Site.id) == col(Violation.site_id), isouter=True)
        .where(*conditions)
        .order_by(col(Challan.issued_at).desc(), col(Challan.id).desc())
        .offset(offset)
        .limit(limit)
    )
    total = session.exec(
        select(func.count())
        .select_from(Challan)
        .join(Violation, col(Violation.id) == col(Challan.violation_id))
        .where(*conditions)
    ).one()
    return [ChallanRow(*row) for row in session.execute(query)], int(total)


def contested_challans(session: Session, *, limit: int, offset: int = 0) -> list[Challan]:
    """Challans awaiting a decision on a contest, longest waiting first."""
    query = (
        select(Challan)
        .join(Violation, col(Violation.id) == col(Challan.violation_id))
        .where(Violation.status == Status.CONTESTED)
        .options(selectinload(Challan.violation).selectinload(Violation.evidence))  # type: ignore[arg-type]
        .order_by(col(Challan.contested_at), col(Challan.id))
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(query))


@dataclass(frozen=True)
class Counts:
    by_site: list[tuple[str, int]]
    by_violation: list[tuple[str, int]]
    by_status: list[tuple[str, int]]
    by_day: list[tuple[date, int]]  # every day of the window, oldest first, zeros included
    total: int


def dashboard_counts(session: Session, *, days: int, today: date, timezone: str) -> Counts:
    """Violations recorded, by site, by violation and by status (all time) and by local day of the
    offence over the last `days` days up to `today`."""

    def grouped(column) -> list[tuple[str, int]]:
        query = select(column, func.count()).select_from(Violation).group_by(column)
        return sorted(((str(k), int(n)) for k, n in session.exec(query)), key=lambda kn: (-kn[1], kn[0]))

    first = today - timedelta(days=days - 1)
    zone = ZoneInfo(timezone)
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    day = _local_day(session, zone)
    query = (
        select(day, func.count())
        .select_from(Violation)
        .where(col(Violation.occurred_at) >= start)
        .group_by(day)
    )
    found = {_as_date(k): int(n) for k, n in session.exec(query)}
    by_day = [(first + timedelta(days=i), found.get(first + timedelta(days=i), 0)) for i in range(days)]
    by_status = grouped(Violation.status)
    return Counts(
        by_site=grouped(Violation.site_id),
        by_violation=grouped(Violation.code),
        by_status=by_status,
        by_day=by_day,
        total=sum(n for _, n in by_status),
    )


def recorded_site_names(session: Session) -> dict[str, str]:
    """Every site's name as recorded (the pipeline records a new site under its code)."""
    return {site_id: name for site_id, name in session.exec(select(Site.id, Site.name))}


@dataclass(frozen=True)
class Money:
    issued_pkr: int  # the fines of every challan issued, as issued (cancelled ones included)
    collected_pkr: int  # every payment recorded
    overdue: int  # challans unpaid past their due date


def money_counts(session: Session, *, today: date) -> Money:
    """What the challans come to: fines issued, payments collected, and how many are overdue."""
    issued = session.exec(select(func.coalesce(func.sum(Challan.fine_pkr), 0))).one()
    collected = session.exec(select(func.coalesce(func.sum(Payment.amount_pkr), 0))).one()
    overdue = session.exec(
        select(func.count())
        .select_from(Challan)
        .join(Violation, col(Violation.id) == col(Challan.violation_id))
        .where(col(Violation.status).in_(UNPAID), col(Challan.due_on) < today)
    ).one()
    return Money(issued_pkr=int(issued), collected_pkr=int(collected), overdue=int(overdue))


def _local_day(session: Session, zone: ZoneInfo):
    """The offence's calendar day where it happened, computed by the database."""
    column = col(Violation.occurred_at)
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(str(zone), column))
    # SQLite stores naive UTC; the portal's zones (Pakistan) keep one offset all year.
    offset = datetime.now(zone).utcoffset() or timedelta(0)
    return func.date(column, f"{int(offset.total_seconds()):+d} seconds")


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


__all__ = [
    "ChallanRow",
    "ChallanSearch",
    "Counts",
    "Money",
    "QueueFilter",
    "challans_for_owner",
    "challans_for_plates",
    "contested_challans",
    "count_pending",
    "dashboard_counts",
    "money_counts",
    "pending_queue",
    "pending_sites",
    "plates_of_owner",
    "recorded_site_names",
    "search_challans",
]
