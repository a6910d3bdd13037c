"""Section control (average speed): a site whose file declares `section: {entry_site, distance_m,
limit_kmh}` is the exit of a stretch of road; a vehicle read there that was read at the entry
before is suspected of AVERAGE_SPEED when the distance over the time between is above the limit
plus the tolerance. The finding goes pending review like any other (challan.crud.record_event),
with the entry sighting's images (challan.sightings keeps them) and the exit event's own, and is
fined as over-speeding (the fine schedule's AVERAGE_SPEED is `fined_as: OVER_SPEED`).

Pairing two sightings by their plate multiplies the chance of a misread, and a misread here fines
someone who was not there, so only sure reads are paired (`sure`), by the exact voted text; a
registration year read at both ends must agree. The time is taken to the driver's benefit, from
the entry's first sight to the exit's last (the longest the vehicle may have taken); an average
over MAX_KMH is no vehicle's (a cloned plate, a camera clock off) and is left alone. An exit is
fined once, and so is an entry (a vehicle the exit camera followed as two tracks is one trip)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from anpr.types import UNCERTAIN_READ, Evidence, PlateRead, VehicleEvent
from challan.findings import Finding
from challan.models import Event, Sighting, Site, Violation
from challan.rules import SectionRules, SiteRules, evaluate_all

AVERAGE_SPEED = "AVERAGE_SPEED"
# Both ends' reads must be at least this sure: the review's own line for an uncertain read. On the
# held-back halves every misread sat under it (anpr.types.UNCERTAIN_READ); one under it is what the
# officer is told to check character by character, and a pair of them is no ground to fine on.
SURE_READ = UNCERTAIN_READ
# Faster than this on average between two cameras is not one vehicle's trip but two vehicles with one
# plate, a misread or a camera clock that is off: a car that can do more is rare, and a pair at more
# is for the cloned-plate check (challan.alerts), not a speeding fine.
MAX_KMH = 250.0


def hold_plate(session: Session, plate: str) -> None:
    """On PostgreSQL, hold a transaction-scoped advisory lock on the plate for section pairing: an
    exit looking for its entry (average_speed with lock) and an entry looking for its exits
    (late_exits) take it before they read, so that the two ends of one trip posted at the same
    instant are judged one after the other, the second seeing the first's committed row. Without
    it each read before the other committed, and the trip was never fined. (SQLite: every ingest
    already holds the database's write lock, challan.crud.lock_for_change.)"""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"anpr-section:{plate}".encode()).digest()
    connection.execute(
        sa.select(sa.func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True)))
    )


def sure(plate: PlateRead | None) -> bool:
    """Whether a read is sure enough to pair two sightings by (and so for an entry to keep images of)."""
    return plate is not None and bool(plate.text) and plate.confidence >= SURE_READ


@dataclass(frozen=True)
class Entry:
    """The entry sighting a vehicle's exit is paired with."""

    site_id: str
    track_id: int
    first_seen: datetime
    last_seen: datetime
    plate_year: str | None
    plate_confidence: float
    evidence: tuple[Evidence, ...]

    @classmethod
    def of(cls, sighting: Sighting) -> Entry:
        return cls(
            site_id=sighting.site_id,
            track_id=sighting.track_id,
            first_seen=sighting.first_seen,
            last_seen=sighting.last_seen,
            plate_year=sighting.plate_year,
            plate_confidence=sighting.plate_confidence,
            evidence=tuple(Evidence(**item) for item in sighting.evidence),
        )


def window(section: SectionRules) -> timedelta:
    """How long the section takes at the limit plus the tolerance: an entry longer ago than this
    gives a lawful average whatever happened in between, so it is not looked for."""
    return timedelta(hours=section.distance_m / 1000 / (section.limit_kmh + section.tolerance_kmh))


def latest_entry(
    session: Session, *, event: VehicleEvent, section: SectionRules, lock: bool = False
) -> Entry | None:
    """The latest sure sighting of the event's plate at the section's entry before the event, within
    the section's window; `lock` holds its row (PostgreSQL) until the caller commits, so that two
    exits of one trip judged at once are paired one after the other."""
    assert event.plate is not None  # callers pass sure reads only
    query = (
        select(Sighting)
        .where(
            Sighting.site_id == section.entry_site,
            Sighting.plate_text == event.plate.text,
            col(Sighting.plate_confidence) >= SURE_READ,
            col(Sighting.first_seen) < event.first_seen,
            col(Sighting.first_seen) >= event.last_seen - window(section),
        )
        .order_by(col(Sighting.first_seen).desc(), col(Sighting.id).desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    sighting = session.exec(query).first()
    return Entry.of(sighting) if sighting is not None else None


def finding(event: VehicleEvent, entry: Entry, section: SectionRules) -> Finding | None:
    """AVERAGE_SPEED for the trip from `entry` to `event`, if it broke the section's limit."""
    assert event.plate is not None  # callers pass sure reads only
    year = event.plate.year
    if year and entry.plate_year and year[-2:] != entry.plate_year[-2:]:
        return None  # two registrations of one series and number: not one vehicle
    seconds = (event.last_seen - entry.first_seen).total_seconds()
    if seconds <= 0:
        return None
    kmh = section.distance_m / seconds * 3.6
    if kmh <= section.limit_kmh + section.tolerance_kmh or kmh > MAX_KMH:
        return None
    zone = event.last_seen.tzinfo or UTC
    details = {
        "speed_kmh": round(kmh, 1),
        "limit_kmh": section.limit_kmh,
        "tolerance_kmh": section.tolerance_kmh,
        "method": "average-speed-section",
        "distance_m": section.distance_m,
        "seconds": round(seconds, 1),
        "entry_site_id": entry.site_id,
        "entry_at": entry.first_seen.astimezone(zone).isoformat(),
        "entry_track_id": entry.track_id,
        "entry_plate_confidence": round(entry.plate_confidence, 4),
        "exit_site_id": event.site_id,
        "exit_at": event.last_seen.isoformat(),
    }
    return Finding(code=AVERAGE_SPEED, occurred_at=event.last_seen, details=details, evidence=entry.evidence)


def paired_elsewhere(session: Session, *, event: VehicleEvent, entry: Entry) -> bool:
    """Whether the entry was already paired with another exit event (another track of the vehicle at
    the exit): the trip is fined once. The event's own violation (a re-run) does not count."""
    assert event.plate is not None  # callers pass sure reads only
    rows = session.exec(
        select(Violation.details, Event.track_id, Event.first_seen)
        .join(Event, col(Event.id) == col(Violation.event_id))
        .where(
            Violation.code == AVERAGE_SPEED,
            Violation.site_id == event.site_id,
            Violation.plate_text == event.plate.text,
            col(Violation.occurred_at) > entry.first_seen,
        )
    )
    for details, track_id, first_seen in rows:
        same_entry = (
            details.get("entry_site_id") == entry.site_id
            and details.get("entry_track_id") == entry.track_id
            and _instant(details.get("entry_at")) == entry.first_seen
        )
        if same_entry and (track_id, first_seen) != (event.track_id, event.first_seen):
            return True
    return False


def average_speed(
    session: Session, *, event: VehicleEvent, rules: SiteRules, lock: bool = False
) -> list[Finding]:
    """The event's AVERAGE_SPEED finding where its site ends a section (none or one); the records'
    side of the check, for the hub's ingest (challan.ingest) and for SectionJudge."""
    section = rules.section
    if section is None or not sure(event.plate):
        return []
    assert event.plate is not None  # sure() says so
    if lock:
        hold_plate(session, event.plate.text)
    entry = latest_entry(session, event=event, section=section, lock=lock)
    if entry is None:
        return []
    found = finding(event, entry, section)
    if found is None or paired_elsewhere(session, event=event, entry=entry):
        return []
    return [found]


# How long after an entry its exit may have been recorded already, for late_exits' first look (the
# exit camera's own section decides the real window, challan.section.window)
LATE_HORIZON = timedelta(days=1)


def remember_section(session: Session, *, rules: SiteRules, actor: str) -> bool:
    """Record the section the site ends, as a footage job of the hub's own reads it from the site
    file, so that an entry recorded after this site's exits is paired with them (late_exits); a
    site file that no longer gives one clears it. Returns whether that changed the records; a
    change is audited."""
    from challan.audit import log_change
    from challan.crud import ensure_site

    section = asdict(rules.section) if rules.section is not None else None
    site = (
        ensure_site(session, site_id=rules.site_id, actor=actor)
        if section
        else session.get(Site, rules.site_id)
    )
    if site is None or site.section == section:
        return False
    log_change(
        session,
        actor=actor,
        action="update",
        entity="sites",
        entity_id=site.id,
        changes={"section": [site.section, section]},
        reason="the section in the site file of a footage job",
    )
    site.section = section
    session.add(site)
    session.flush()
    return True


def late_exits(session: Session, *, entry: VehicleEvent) -> list[Violation]:
    """AVERAGE_SPEED for the exits recorded before their entry: an entry camera whose link was down
    posts its backlog when the link comes back, and footage is batch-processed in any order (on
    several workers at once), so a vehicle's exit can reach the records before its entry. Each exit
    of the entry's plate, read surely after it at a site whose section begins at the entry's site
    (a camera's rules as registered, challan.cameras, or the section a footage job recorded for a
    site the hub runs, remember_section), is judged again now that the entry is recorded, exactly
    as it was judged at its own time (average_speed: the latest entry before it, the window, the
    year, a trip fined once). Returns the violations this added."""
    if not sure(entry.plate):
        return []
    assert entry.plate is not None  # sure() says so
    from challan import crud
    from challan.cameras import rules_of
    from challan.ingest import stored_vehicle_event
    from challan.models import Camera

    hold_plate(session, entry.plate.text)
    later = session.exec(
        select(Sighting).where(
            Sighting.plate_text == entry.plate.text,
            col(Sighting.plate_confidence) >= SURE_READ,
            col(Sighting.first_seen) > entry.first_seen,
            col(Sighting.first_seen) <= entry.last_seen + LATE_HORIZON,
            Sighting.site_id != entry.site_id,
        )
    ).all()
    if not later:
        return []
    exits: dict[str, SiteRules] = {}
    sites = {s.site_id for s in later}
    for site in session.exec(select(Site).where(col(Site.id).in_(sites), col(Site.section).is_not(None))):
        section = SectionRules(**site.section) if site.section else None
        if section is not None and section.entry_site == entry.site_id:
            exits[site.id] = SiteRules(site_id=site.id, section=section)
    cameras = session.exec(
        select(Camera).where(col(Camera.site_id).in_(sites), col(Camera.rules).is_not(None))
    )
    for camera in cameras:
        rules = rules_of(camera)
        if rules.section is not None and rules.section.entry_site == entry.site_id:
            exits[camera.site_id] = rules  # as registered: the rules its own posts are judged by
    added: list[Violation] = []
    for sighting in sorted(later, key=lambda s: s.first_seen):
        exit_rules = exits.get(sighting.site_id)
        if exit_rules is None:
            continue
        stored = session.exec(
            select(Event).where(
                Event.site_id == sighting.site_id,
                Event.track_id == sighting.track_id,
                Event.first_seen == sighting.first_seen,
            )
        ).first()
        if (
            stored is None
            or session.exec(
                select(Violation.id).where(Violation.event_id == stored.id, Violation.code == AVERAGE_SPEED)
            ).first()
        ):
            continue  # not recorded here after all, or its trip is judged already
        exit_event = stored_vehicle_event(stored)
        if exit_event is None:
            continue
        found = average_speed(session, event=exit_event, rules=exit_rules, lock=True)
        if found:
            added += crud.record_event(session, event=exit_event, findings=found)
    return added


class SectionJudge:
    """The rules, and the section's average speed, for a footage job (anpr.jobs.footage): a judge as
    anpr.process.VideoProcessor takes one. The processor also judges each open track on every frame
    (for its overlay), so the entry found for a track's read is kept: the records are asked once a
    track and read, and again only for a finding."""

    def __init__(self, rules: SiteRules, url: str | None, keep: int = 512):
        self.rules, self.url, self.keep = rules, url, keep
        self.entries: OrderedDict[tuple, Entry | None] = OrderedDict()

    def __call__(self, event: VehicleEvent) -> list[Finding]:
        return evaluate_all(event, self.rules) + self.section(event)

    def section(self, event: VehicleEvent) -> list[Finding]:
        section = self.rules.section
        if section is None or not sure(event.plate):
            return []
        assert event.plate is not None  # sure() says so
        from challan.db import session_scope

        key = (event.track_id, event.first_seen, event.plate.text)
        if key not in self.entries:
            with session_scope(self.url) as session:
                self.entries[key] = latest_entry(session, event=event, section=section)
            while len(self.entries) > self.keep:
                self.entries.popitem(last=False)
        entry = self.entries[key]
        found = finding(event, entry, section) if entry is not None else None
        if found is None or entry is None:
            return []
        with session_scope(self.url) as session:
            if paired_elsewhere(session, event=event, entry=entry):
                return []
        return [found]


def _instant(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
