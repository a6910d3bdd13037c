"""Alerts: what a control room acts on, raised as soon as a vehicle's read settles (anpr.jobs.lookout
asks; the hub's ingest may too), on what the pipeline knows of the vehicle then (`Spotted`): the
read, or a candidate above the floor, is a listed plate or a look-alike of one (challan.hotlists);
the alert's kind is the list's name (stolen, wanted, defaulters ...).

An alert is stored once: a re-run, or a second fragment of the same vehicle, raises nothing again."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, or_, select

from anpr.types import Evidence, PlateRead, VehicleEvent
from challan import crud, hotlists
from challan.fines import offence_day
from challan.models import Alert
from challan.settings import get_settings

HOTLISTS = "hotlists"  # the hotlist check (its alerts are named after their lists)
CHECKS = (HOTLISTS,)

# The same alert for the same plate at one site within this: one vehicle (a track the tracker split)
REPEAT_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class Spotted:
    """A vehicle as the pipeline knows it when its read settles, or when it leaves unsettled: the
    event so far (the plate voted under the site's grammar, type and colour voted so far), when it
    was read, the site's plate region, and the read voted under no region's grammar (a plate that
    fits none of the site's layouts is unread under them)."""

    event: VehicleEvent
    seen_at: datetime
    region: str = "auto"
    printed: PlateRead | None = None


@dataclass(frozen=True)
class Raised:
    """An alert before it is stored (the pipeline writes its evidence images in between)."""

    kind: str
    plate: str
    read: str
    reason: str
    match: str | None = None
    list_name: str | None = None
    details: dict = field(default_factory=dict)


def check(
    session: Session,
    spotted: Spotted,
    *,
    checks: Collection[str] = CHECKS,
) -> list[Raised]:
    """The alerts `spotted` raises that are not raised yet."""
    event = spotted.event
    raised: list[Raised] = []
    if HOTLISTS in checks:
        day = offence_day(spotted.seen_at, get_settings().timezone)
        read = event.plate.text if event.plate else ""
        raised += [
            Raised(hit.list_name, hit.plate, read, hit.reason, hit.match, hit.list_name)
            for hit in hotlists.hits(session, read=event.plate, day=day)
        ]
    return [r for r in raised if not _already(session, spotted, r)]


def _already(session: Session, spotted: Spotted, raised: Raised) -> bool:
    """Whether this alert was raised for this track, or for this plate at this site just before or
    after (another fragment of the same vehicle)."""
    event = spotted.event
    query = select(Alert.id).where(
        Alert.kind == raised.kind,
        Alert.plate == raised.plate,
        Alert.site_id == event.site_id,
        or_(
            (col(Alert.track_id) == event.track_id) & (col(Alert.first_seen) == event.first_seen),
            (col(Alert.seen_at) >= spotted.seen_at - REPEAT_WINDOW)
            & (col(Alert.seen_at) <= spotted.seen_at + REPEAT_WINDOW),
        ),
    )
    return session.exec(query).first() is not None


def store(
    session: Session, *, spotted: Spotted, raised: Sequence[Raised], evidence: Sequence[Evidence] = ()
) -> list[Alert]:
    """Store the alerts (flushed, not committed), each with the evidence images."""
    event = spotted.event
    crud.ensure_site(session, site_id=event.site_id)
    alerts = [
        Alert(
            kind=r.kind,
            plate=r.plate,
            read_text=r.read,
            match_kind=r.match,
            list_name=r.list_name,
            reason=r.reason[:500],
            site_id=event.site_id,
            track_id=event.track_id,
            first_seen=event.first_seen,
            seen_at=spotted.seen_at,
            evidence=[asdict(e) for e in evidence],
            details=r.details,
        )
        for r in raised
    ]
    session.add_all(alerts)
    session.flush()
    return alerts


def list_alerts(
    session: Session,
    *,
    kind: str | None = None,
    plate: str | None = None,
    site_id: str | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[Alert]:
    """Oldest first; `after_id` gives only those raised after that one (to follow new alerts)."""
    query = select(Alert)
    if kind:
        query = query.where(Alert.kind == kind.strip().lower())
    if plate:
        query = query.where(Alert.plate == crud.normalize_plate(plate))
    if site_id:
        query = query.where(Alert.site_id == site_id)
    if after_id is not None:
        query = query.where(col(Alert.id) > after_id)
    query = query.order_by(col(Alert.id))
    return list(session.exec(query.limit(limit) if limit else query))


def latest_alerts(session: Session, *, limit: int) -> list[Alert]:
    """The `limit` alerts raised last, newest first."""
    return list(session.exec(select(Alert).order_by(col(Alert.id).desc()).limit(limit)))


def alert_json(alert: Alert) -> dict:
    """One line of `anpr alerts list --json` (and the webhook's body, and the officer page's event)."""
    return {
        "id": alert.id,
        "kind": alert.kind,
        "plate": alert.plate,
        "read": alert.read_text,
        "match": alert.match_kind,
        "list": alert.list_name,
        "reason": alert.reason,
        "site_id": alert.site_id,
        "seen_at": alert.seen_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "track_id": alert.track_id,
        "evidence": list(alert.evidence),
    }
