"""Reading and recording: keyword-only functions taking the session explicitly. Events and pending
violations from the pipeline (`record_event`), look-ups and lists for the CLI and the portal, and the
vehicle registry. The officer's review and the challan's life after it are in challan.lifecycle.
Each change writes an audit entry in the same transaction and flushes; the caller commits
(challan.db.session_scope does). A function that raises has written nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, or_, select

from anpr.errors import AnprError, InputError
from anpr.types import VehicleEvent, is_uncertain
from challan import evidence as evidence_files
from challan.audit import audit_trail, log_change, violation_trail  # noqa: F401  (part of this API)
from challan.errors import NotFoundError
from challan.findings import Finding
from challan.fines import Fine, load_fines, offence_day
from challan.models import (
    AuditPublic,
    Challan,
    ChallanPublic,
    Event,
    EventPublic,
    EvidenceFile,
    PaymentPublic,
    Site,
    Status,
    Vehicle,
    VehicleCreate,
    VehiclePublic,
    Violation,
    ViolationPublic,
    utcnow,
)
from challan.settings import Settings, get_settings

PIPELINE = "pipeline"
PLATE_PATTERN = re.compile(r"^[A-Z0-9]{2,12}$")
CNIC_PATTERN = re.compile(r"^\d{5}-?\d{7}-?\d$")


def normalize_plate(text: str) -> str:
    """Series + number as stored: spaces and dashes dropped, upper case ('leh 5789' -> 'LEH5789').
    A Pakistani registration year is not part of it."""
    plate = re.sub(r"[\s\-]", "", text or "").upper()
    if not PLATE_PATTERN.match(plate):
        raise InputError(f"plate '{text}' is not 2-12 letters and digits (series + number, e.g. LEH5789)")
    return plate


def normalize_cnic(text: str) -> str:
    """A CNIC as 12345-1234567-1 (13 digits, dashes optional on input)."""
    value = (text or "").strip()
    if not CNIC_PATTERN.match(value):
        raise InputError(f"CNIC '{text}' is not 13 digits as 12345-1234567-1")
    digits = value.replace("-", "")
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"


# --- sites, events, violations -------------------------------------------------------------------


def ensure_site(session: Session, *, site_id: str, actor: str = PIPELINE) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        site = Site(id=site_id, name=site_id)
        session.add(site)
        log_change(
            session,
            actor=actor,
            action="create",
            entity="sites",
            entity_id=site_id,
            changes={"name": site_id},
            reason="first event from an unknown site",
        )
        session.flush()
    return site


def record_event(session: Session, *, event: VehicleEvent, findings: Sequence[Finding]) -> list[Violation]:
    """Store the event (once) and one pending violation per finding (once per code), returning the
    violations for `findings` in order, whether new or already recorded. Re-running after a crash
    neither loses nor duplicates: (site, track, first_seen) and (event, code) are unique."""
    site = ensure_site(session, site_id=event.site_id)
    stored = session.exec(
        select(Event).where(
            Event.site_id == site.id, Event.track_id == event.track_id, Event.first_seen == event.first_seen
        )
    ).first()
    if stored is None:
        plate = event.plate
        stored = Event(
            site_id=site.id,
            track_id=event.track_id,
            vehicle_type=event.vehicle_type,
            first_seen=event.first_seen,
            last_seen=event.last_seen,
            plate_text=plate.text if plate else "",
            plate_confidence=plate.confidence if plate else 0.0,
            speed_kmh=event.speed_kmh,
            data=event.to_json(),
        )
        session.add(stored)
        session.flush()
        log_change(
            session,
            actor=PIPELINE,
            action="record",
            entity="events",
            entity_id=stored.id,
            # No plate: the audit log is kept for ever and cannot be changed, and most vehicles did
            # nothing (their plate goes with the retention purge, challan.retention); a violation's
            # own entry names its plate.
            changes={"site_id": site.id, "track_id": event.track_id},
        )
    existing = {v.code: v for v in session.exec(select(Violation).where(Violation.event_id == stored.id))}
    violations = []
    for finding in findings:
        violation = existing.get(finding.code)
        if violation is None:
            violation = _new_violation(session, event=event, stored=stored, finding=finding)
            existing[finding.code] = violation
        violations.append(violation)
    return violations


def _new_violation(session: Session, *, event: VehicleEvent, stored: Event, finding: Finding) -> Violation:
    plate = event.plate
    assert stored.id is not None  # stored was read back or flushed
    violation = Violation(
        event_id=stored.id,
        site_id=stored.site_id,
        code=finding.code,
        occurred_at=finding.occurred_at,
        vehicle_type=event.vehicle_type,
        plate_text=plate.text if plate else "",
        plate_year=plate.year if plate else None,
        plate_confidence=plate.confidence if plate else 0.0,
        plate_candidates=[{"text": c.text, "confidence": c.confidence} for c in plate.candidates]
        if plate
        else [],
        details=dict(finding.details),
    )
    session.add(violation)
    session.flush()
    assert violation.id is not None  # the flush assigned it
    seen = set()
    # The finding's own files first (the offence), then the event's (e.g. the plate close-up).
    for item in (*finding.evidence, *event.evidence):
        if (item.kind, item.sha256) in seen:
            continue
        seen.add((item.kind, item.sha256))
        session.add(
            EvidenceFile(violation_id=violation.id, kind=item.kind, path=item.path, sha256=item.sha256)
        )
    log_change(
        session,
        actor=PIPELINE,
        action="record",
        entity="violations",
        entity_id=violation.id,
        changes={
            "code": finding.code,
            "plate": violation.plate_text,
            "status": Status.PENDING.value,
            "event_id": stored.id,
        },
    )
    session.flush()
    return violation


class RecordsBusyError(AnprError):
    """Another change held the records for longer than this one could wait; nothing was changed."""


def lock_for_change(session: Session) -> None:
    """Before reading what a change depends on: on PostgreSQL, SELECT ... FOR UPDATE (by the caller)
    locks the rows. SQLite has no row locks, and a transaction that reads first and writes later finds
    out at its write that another got in between (a raw IntegrityError); so the transaction takes the
    database's write lock first (BEGIN IMMEDIATE), waits up to the busy timeout for a writer to commit,
    and then reads what that writer left. Changes to records are then one after another on SQLite."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi = connection.connection.dbapi_connection
    if dbapi is None or dbapi.in_transaction:
        return  # this transaction has written already: it holds the lock
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except sa.exc.OperationalError as exc:
        raise RecordsBusyError(
            f"the records are busy with another change ({exc.orig}); nothing was changed: try again"
        ) from None


def get_violation(session: Session, *, violation_id: int, for_update: bool = False) -> Violation:
    if for_update:
        lock_for_change(session)
    violation = session.get(Violation, violation_id, with_for_update=for_update, populate_existing=for_update)
    if violation is None:
        raise NotFoundError(f"no violation with id {violation_id}")
    return violation


def get_challan(session: Session, *, number: str, for_update: bool = False) -> Challan:
    query = select(Challan).where(Challan.number == number.strip().upper())
    if for_update:
        lock_for_change(session)
        query = query.with_for_update().execution_options(populate_existing=True)
    challan = session.exec(query).first()
    if challan is None:
        raise NotFoundError(f"no challan numbered {number}")
    return challan


def find_violation(session: Session, *, key: str) -> Violation:
    """A violation by its record id ('42') or by its challan's number ('PB-2026-000042-K7QX')."""
    key = key.strip()
    if key.isdigit():
        return get_violation(session, violation_id=int(key))
    return get_challan(session, number=key).violation


def list_violations(
    session: Session,
    *,
    status: Status | str | None = None,
    plate: str | None = None,
    site_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Violation]:
    """Oldest offence first; `plate` matches the camera's read and an officer's correction."""
    # SQLModel types a relationship on the class as the related model, not its InstrumentedAttribute
    query = select(Violation).options(selectinload(Violation.challan), selectinload(Violation.site))  # type: ignore[arg-type]
    if status is not None:
        query = query.where(Violation.status == Status(status).value)
    if plate:
        wanted = normalize_plate(plate)
        query = query.where(or_(Violation.plate_text == wanted, Violation.corrected_plate == wanted))
    if site_id:
        query = query.where(Violation.site_id == site_id)
    query = query.order_by(col(Violation.occurred_at), col(Violation.id)).offset(offset)
    return list(session.exec(query.limit(limit) if limit else query))


# --- vehicle registry -----------------------------------------------------------------------------


def get_vehicle(session: Session, *, plate: str) -> Vehicle | None:
    return session.exec(select(Vehicle).where(Vehicle.plate == plate)).first()


def is_registered_owner(session: Session, *, plate: str, cnic: str | None) -> bool:
    """True only when a well-formed CNIC is the registered owner's (the registry must know the plate):
    what a citizen proves to see a challan's personal data or to contest it."""
    if not cnic:
        return False
    try:
        wanted = normalize_cnic(cnic[:20])
    except InputError:
        return False
    vehicle = get_vehicle(session, plate=plate)
    return vehicle is not None and vehicle.owner_cnic == wanted


class Registration(NamedTuple):
    """What the vehicle registry says of a plate that the review card checks the read against."""

    vehicle_class: str
    year: str | None


def registrations(session: Session, plates: Sequence[str]) -> dict[str, Registration]:
    """plate -> its registry entry's class and year, for those of `plates` the registry knows."""
    wanted = sorted({p for p in plates if p})
    if not wanted:
        return {}
    query = select(Vehicle.plate, Vehicle.vehicle_class, Vehicle.registration_year)
    rows = session.exec(query.where(col(Vehicle.plate).in_(wanted)))
    return {plate: Registration(cls, year) for plate, cls, year in rows.all()}


def class_conflict(camera_type: str, registry_class: str) -> bool:
    """Whether the registry's class for a plate contradicts the vehicle the camera saw, in the one way
    the camera can be trusted on: two wheels against four or more. A rickshaw may be seen as either,
    and a car against a larger class is left to the officer. A conflict says the plate was likely
    misread (or the plate is on the wrong vehicle)."""
    if registry_class == "rickshaw" or camera_type in ("rickshaw", "unknown"):
        return False
    return (camera_type == "motorcycle") != (registry_class == "motorcycle")


def year_conflict(read_year: str | None, registry_year: str | None) -> bool:
    """Whether the year the camera read on a Punjab plate differs from the registry's (two or four
    digits there, two on the plate). The challan prints the registry's year, so a conflict says the
    year or the plate was misread (the small raised year is what the reader loses first: README,
    "Small plates"), or that the registry is wrong: the officer looks at the close-up."""
    if not read_year or not registry_year:
        return False
    return read_year[-2:] != registry_year[-2:]


class ReadCheck(NamedTuple):
    """What the officer is told of the camera's read of a violation's plate before approving it."""

    uncertain_read: bool  # under anpr.types.UNCERTAIN_READ
    registered_class: str | None  # the registry's entry for the plate as read, if any
    class_conflict: bool
    registered_year: str | None
    year_conflict: bool


def check_read(session: Session, violation: Violation) -> tuple[ReadCheck, dict[str, Registration]]:
    """The read checked against its confidence and the vehicle registry; and the registry's entries
    for the read and each of its candidates (for the review card's candidate buttons)."""
    candidates = [c["text"] for c in violation.plate_candidates if isinstance(c, dict) and c.get("text")]
    registered = registrations(session, [violation.plate_text, *candidates])
    vehicle_class, year = registered.get(violation.plate_text) or (None, None)
    check = ReadCheck(
        uncertain_read=is_uncertain(violation.plate_text, violation.plate_confidence),
        registered_class=vehicle_class,
        class_conflict=bool(vehicle_class and class_conflict(violation.vehicle_type, vehicle_class)),
        registered_year=year,
        year_conflict=year_conflict(violation.plate_year, year),
    )
    return check, registered


def year_candidates(violation: Violation) -> list[dict]:
    """The registration years the camera read with the plate, voted year first, each with its share
    ({text, confidence}); stored with the vehicle's event. Empty for a plate without a year."""
    plate = ((violation.event.data if violation.event else None) or {}).get("plate") or {}
    return [c for c in plate.get("year_candidates") or [] if isinstance(c, dict) and c.get("text")]


def save_vehicle(session: Session, *, data: VehicleCreate, actor: str, reason: str | None = None) -> str:
    """Add the vehicle or update its registry entry in place (the audit log keeps the old values).
    Returns 'created', 'updated' or 'unchanged'."""
    vehicle = get_vehicle(session, plate=data.plate)
    values = data.model_dump()
    if vehicle is None:
        vehicle = Vehicle(**values)
        session.add(vehicle)
        session.flush()
        log_change(
            session,
            actor=actor,
            action="create",
            entity="vehicles",
            entity_id=vehicle.id,
            changes=values,
            reason=reason,
        )
        return "created"
    changes = {k: [getattr(vehicle, k), v] for k, v in values.items() if getattr(vehicle, k) != v}
    if not changes:
        return "unchanged"
    for key, (_old, new) in changes.items():
        setattr(vehicle, key, new)
    vehicle.updated_at = utcnow()
    log_change(
        session,
        actor=actor,
        action="update",
        entity="vehicles",
        entity_id=vehicle.id,
        changes=changes,
        reason=reason,
    )
    session.flush()
    return "updated"


# --- fines ------------------------------------------------------------------------------------------


def fine_for(session: Session, *, violation: Violation, plate: str, settings: Settings) -> Fine:
    """The fine by the schedule in force on the offence day, for the registry's vehicle class when it
    knows the plate, else the class the camera saw."""
    vehicle = get_vehicle(session, plate=plate)
    vehicle_class = vehicle.vehicle_class if vehicle else violation.vehicle_type
    day = offence_day(violation.occurred_at, settings.timezone)
    return load_fines(settings.fines_path).fine_for(code=violation.code, vehicle_class=vehicle_class, day=day)


# --- what leaves: list records -------------------------------------------------------------------


def to_public(
    session: Session, *, violations: Sequence[Violation], settings: Settings | None = None
) -> list[ViolationPublic]:
    """List records; before issue, fine_pkr is the schedule's amount when it has one (else None)."""
    settings = settings or get_settings()
    records = []
    for v in violations:
        challan = v.challan
        fine = challan.fine_pkr if challan else _estimate(session, violation=v, settings=settings)
        assert v.id is not None  # a stored violation
        records.append(
            ViolationPublic(
                id=v.id,
                number=challan.number if challan else None,
                plate=v.plate,
                plate_read=v.plate_text,
                violation=v.code,
                violation_title=_title(v.code, settings),
                vehicle_type=v.vehicle_type,
                status=v.status,
                fine_pkr=fine,
                occurred_at=v.occurred_at,
                site=v.site_id,
                site_name=v.site.name if v.site else None,
                issued_on=challan.issued_on if challan else None,
                due_on=challan.due_on if challan else None,
                psid=challan.psid if challan else None,
                officer=challan.officer if challan else v.reviewed_by,
            )
        )
    return records


def _estimate(session: Session, *, violation: Violation, settings: Settings) -> int | None:
    if Status(violation.status) in (Status.REJECTED,) or not violation.plate:
        return None
    try:
        return fine_for(session, violation=violation, plate=violation.plate, settings=settings).amount_pkr
    except AnprError:
        return None


def _title(code: str, settings: Settings) -> str | None:
    violation = load_fines(settings.fines_path).violations.get(code)
    return violation.title if violation else None


def violation_detail(
    session: Session, *, violation: Violation, settings: Settings | None = None, personal: bool = True
) -> dict:
    """Everything on record about one violation, JSON-ready (for `anpr challan show`); with
    personal=False the registered owner's data are left out."""
    settings = settings or get_settings()
    detail = to_public(session, violations=[violation], settings=settings)[0].model_dump(mode="json")
    event, challan = violation.event, violation.challan
    vehicle = get_vehicle(session, plate=violation.plate) if violation.plate else None
    registry = None
    if vehicle is not None:
        registry = (
            (VehicleCreate if personal else VehiclePublic).model_validate(vehicle).model_dump(mode="json")
        )
    detail |= {
        "plate_year": violation.plate_year,
        "plate_confidence": violation.plate_confidence,
        "plate_candidates": violation.plate_candidates,
        "plate_year_candidates": year_candidates(violation),
        "read_check": check_read(session, violation)[0]._asdict(),
        "corrected_plate": violation.corrected_plate,
        "details": violation.details,
        "event": EventPublic.model_validate(event).model_dump(mode="json"),
        "reviewed_by": violation.reviewed_by,
        "reviewed_at": _iso(violation.reviewed_at),
        "rejection_reason": violation.rejection_reason,
        "challan": ChallanPublic.model_validate(challan).model_dump(mode="json") if challan else None,
        "payments": [PaymentPublic.model_validate(p).model_dump(mode="json") for p in challan.payments]
        if challan
        else [],
        "registry": registry,
        "evidence": [
            c.to_json() for c in evidence_files.check(violation.evidence, root=settings.evidence_dir)
        ],
        "history": [
            AuditPublic.model_validate(e).model_dump(mode="json")
            for e in violation_trail(session, violation=violation)
        ],
    }
    return detail


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
