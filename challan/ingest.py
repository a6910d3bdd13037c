"""Events from cameras the hub does not run (POST /api/v1/ingest/events): one vehicle event as
`anpr process --json` prints it, plus its evidence files. The event's facts (times, speed, the
signal at the crossing, the plate read) are the camera's; the judgement is the hub's: the event is
judged by the rules its camera was registered with (challan.rules, the same rules `anpr process`
runs) and recorded by challan.crud.record_event with its sighting (challan.sightings), as `anpr
process` records its own, so what it finds goes pending review like any other violation. The
edge's own `violations` are not trusted.

The files are checked against the SHA-256 the event gives for each and stored content-addressed
under the evidence folder (ingest/ab/abcdef....jpg), the event's paths replaced by the hub's.
A camera's event is stored once: (camera, track_id, first_seen) is an ingest receipt, and a retry
finds it and writes nothing. Every refusal is an IngestRefused with its HTTP status and one line."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session, col, select

from anpr.errors import AnprError
from anpr.types import Candidate, Evidence, PlateRead, VehicleEvent
from challan import crud
from challan.audit import log_change
from challan.cameras import rules_of
from challan.evidence import sha256_bytes
from challan.models import Camera, Event, IngestReceipt, Violation, utcnow
from challan.rules import evaluate_all
from challan.section import average_speed, late_exits
from challan.sightings import record_sighting

MAX_FILES = 8
MAX_FILE_BYTES = 16 << 20  # challan.web.security lets 8 such through
MAX_EVENT_BYTES = 256 << 10
STORE = "ingest"  # under the evidence folder
# A camera's clock may run a little fast; an event further ahead than this is refused as misdated.
CLOCK_SLACK = timedelta(minutes=5)
# What each stored suffix's bytes start with: a file is refused where its content is not what its
# name says, since the portal serves these files to citizens by their suffix.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".webp": (b"RIFF",),
    ".mp4": (b"ftyp",),  # at offset 4
}


class IngestRefused(AnprError):
    """The event cannot be taken as sent; `status` is the HTTP status that says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# --- the body: `anpr process --json`'s line ------------------------------------------------------

Confidence = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class _In(BaseModel):
    # Fields the hub does not know are left alone (a newer edge may send more); known ones are strict.
    model_config = ConfigDict(extra="ignore", frozen=True)


class CandidateIn(_In):
    text: str = Field(max_length=16)
    confidence: Confidence


class PlateIn(_In):
    text: str = Field(default="", pattern=r"^[A-Z0-9]{0,16}$")
    year: str | None = Field(default=None, pattern=r"^[0-9]{2}([0-9]{2})?$")
    confidence: Confidence = 0.0
    candidates: list[CandidateIn] = Field(default_factory=list, max_length=20)
    year_candidates: list[CandidateIn] = Field(default_factory=list, max_length=20)


class EvidenceIn(_In):
    kind: Literal["scene_before", "scene_at", "scene_after", "plate_crop", "clip"]
    path: str = Field(min_length=1, max_length=500)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class EventIn(_In):
    site_id: str = Field(min_length=1, max_length=64)
    track_id: int = Field(ge=0, le=2_147_483_647)
    plate: PlateIn | None = None
    vehicle_type: str = Field(min_length=1, max_length=20)
    colour: str | None = Field(default=None, max_length=40)
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    speed_kmh: float | None = Field(default=None, ge=0.0, le=500.0, allow_inf_nan=False)
    speed_method: str | None = Field(default=None, max_length=40)
    crossed_stop_line_at: AwareDatetime | None = None
    signal_state_at_crossing: Literal["red", "amber", "green"] | None = None
    # Not in `anpr process --json`'s event (its RED_LIGHT and STOP_LINE violations carry it); another
    # system may send them here.
    red_onset_at: AwareDatetime | None = None
    amber_seconds: float | None = Field(default=None, ge=0.0, le=60.0, allow_inf_nan=False)
    direction: Literal["with", "against"] | None = None
    stopped_past_line_at: AwareDatetime | None = None
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=MAX_FILES)
    violations: list[dict[str, Any]] = Field(default_factory=list, max_length=20)


def parse_event(text: str | bytes) -> EventIn:
    """The event, or a 400 (not JSON) / 422 (not an event) naming the first problem."""
    if len(text) > MAX_EVENT_BYTES:
        raise IngestRefused(413, f"the event is over {MAX_EVENT_BYTES >> 10} KiB")
    try:
        event = EventIn.model_validate_json(text)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] in ("json_invalid", "json_type"):
            raise IngestRefused(400, f"the event is not JSON ({error['msg']})") from None
        where = ".".join(str(part) for part in error["loc"]) or "event"
        raise IngestRefused(422, f"event.{where}: {error['msg']}") from None
    if event.last_seen < event.first_seen:
        raise IngestRefused(422, "event.last_seen is before event.first_seen")
    if event.first_seen > utcnow() + CLOCK_SLACK:
        raise IngestRefused(422, "event.first_seen is in the future: check the camera's clock")
    return event


def _signal_facts(event: EventIn) -> tuple[datetime | None, float | None]:
    """Red onset and amber length: the event's own, else those its RED_LIGHT or STOP_LINE
    violation quotes (where `anpr process --json` puts them); facts measured at the edge either way."""
    onset, amber = event.red_onset_at, event.amber_seconds
    for violation in event.violations:
        if onset is None and isinstance(violation.get("red_onset_at"), str):
            try:
                quoted = datetime.fromisoformat(violation["red_onset_at"])
            except ValueError:
                raise IngestRefused(422, "event.violations: red_onset_at is not an ISO 8601 time") from None
            onset = quoted if quoted.tzinfo else None
        if amber is None and isinstance(violation.get("amber_seconds"), int | float):
            amber = float(violation["amber_seconds"])
    return onset, amber


def stored_vehicle_event(stored: Event) -> VehicleEvent | None:
    """A recorded event as the anpr.types.VehicleEvent it was recorded from (its `data` is that
    event's to_json, as received), with its evidence as stored; None where the record does not
    hold one (written by an older version)."""
    data = stored.data
    try:
        evidence = [
            Evidence(kind=e["kind"], path=e["path"], sha256=e["sha256"]) for e in data.get("evidence", [])
        ]
        return vehicle_event(EventIn.model_validate({**data, "evidence": []}), evidence)
    except (ValidationError, KeyError, TypeError, AttributeError):
        return None


def vehicle_event(event: EventIn, evidence: Sequence[Evidence]) -> VehicleEvent:
    """The anpr.types.VehicleEvent the pipeline would have made, with the hub's evidence."""
    plate = event.plate
    onset, amber = _signal_facts(event)
    return VehicleEvent(
        site_id=event.site_id,
        track_id=event.track_id,
        vehicle_type=event.vehicle_type,
        first_seen=event.first_seen,
        last_seen=event.last_seen,
        plate=PlateRead(
            text=plate.text,
            confidence=plate.confidence,
            candidates=tuple(Candidate(c.text, c.confidence) for c in plate.candidates),
            year=plate.year,
            year_candidates=tuple(Candidate(c.text, c.confidence) for c in plate.year_candidates),
        )
        if plate and (plate.text or plate.candidates)
        else None,
        colour=event.colour,
        speed_kmh=event.speed_kmh,
        speed_method=event.speed_method,
        crossed_stop_line_at=event.crossed_stop_line_at,
        signal_state_at_crossing=event.signal_state_at_crossing,
        red_onset_at=onset,
        amber_seconds=amber,
        direction=event.direction,
        stopped_past_line_at=event.stopped_past_line_at,
        evidence=tuple(evidence),
    )


# --- evidence ------------------------------------------------------------------------------------


def check_files(event: EventIn, files: Sequence[bytes]) -> None:
    """One file per evidence entry, in the event's order, each with the SHA-256 the entry gives and
    content that its name's suffix says; else a 4xx naming the entry."""
    if len(files) != len(event.evidence):
        raise IngestRefused(
            422, f"the event lists {len(event.evidence)} evidence files and {len(files)} were sent"
        )
    for index, (item, data) in enumerate(zip(event.evidence, files, strict=True)):
        where = f"evidence[{index}] ({item.kind})"
        suffix = _suffix(item)
        if suffix not in SIGNATURES:
            raise IngestRefused(415, f"{where}: '{suffix or item.path[-20:]}' files are not taken")
        if len(data) > MAX_FILE_BYTES:
            raise IngestRefused(413, f"{where}: the file is over {MAX_FILE_BYTES >> 20} MiB")
        actual = sha256_bytes(data)
        if actual != item.sha256:
            raise IngestRefused(
                422, f"{where}: the file's SHA-256 is {actual[:16]}..., the event says {item.sha256[:16]}..."
            )
        head = data[4:8] if suffix == ".mp4" else data[:8]
        if not any(head.startswith(signature) for signature in SIGNATURES[suffix]):
            raise IngestRefused(415, f"{where}: the file is not a {suffix[1:]} file")


def _suffix(item: EvidenceIn) -> str:
    return Path(item.path.replace("\\", "/")).suffix.lower()


def store_files(event: EventIn, files: Sequence[bytes], *, root: Path) -> list[Evidence]:
    """Write each checked file once under root/ingest/ab/abcdef....ext (as challan.evidence.store_file
    lays out the pipeline's); the same bytes again write nothing. Paths are relative to root."""
    stored = []
    for item, data in zip(event.evidence, files, strict=True):
        relative = Path(STORE) / item.sha256[:2] / f"{item.sha256}{_suffix(item)}"
        target = root / relative
        try:
            os.utime(target)  # stored already: touched, so that challan.retention leaves it be now
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            # A name of its own: the same file may be posted twice at once (a retry racing the first).
            partial = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")
            partial.write_bytes(data)
            partial.replace(target)
        stored.append(Evidence(kind=item.kind, path=relative.as_posix(), sha256=item.sha256))
    return stored


# --- recording -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    event_id: int
    duplicate: bool  # an earlier post of this event was recorded; nothing was stored now
    violations: list[tuple[int, str, str]] = field(default_factory=list)  # (id, code, status)
    evidence: list[Evidence] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "event_id": self.event_id,
            "duplicate": self.duplicate,
            "violations": [{"id": i, "code": code, "status": status} for i, code, status in self.violations],
            "evidence": [{"kind": e.kind, "path": e.path, "sha256": e.sha256} for e in self.evidence],
        }


def ingest_event(
    session: Session, *, camera: Camera, event: EventIn, files: Sequence[bytes], evidence_root: Path
) -> IngestResult:
    """Record a camera's checked event once (see the module's docstring); the caller commits."""
    if event.site_id != camera.site_id:
        raise IngestRefused(
            403,
            f"this key is camera {camera.id}'s at site {camera.site_id}; the event is from {event.site_id}",
        )
    check_files(event, files)
    crud.lock_for_change(session)  # SQLite: one ingest at a time, so a retry racing the first waits
    # The event first, then the receipt: a post that commits both between the two reads is seen as
    # what it is, an earlier post of this camera's (on PostgreSQL each read sees the latest commit).
    stored_id = _event_id(session, event)
    if stored_id is not None:
        earlier = _receipt(session, camera, event)
        if earlier is not None:
            return _result(session, earlier.event_id, duplicate=True)
        raise IngestRefused(
            409, f"event {stored_id} of site {event.site_id} has this track_id and first_seen, from elsewhere"
        )
    judged = vehicle_event(event, store_files(event, files, root=evidence_root))
    rules = rules_of(camera)
    # a section's exit: its average speed from the entry's sighting (challan.section)
    section = average_speed(session, event=judged, rules=rules, lock=True)
    crud.record_event(session, event=judged, findings=evaluate_all(judged, rules) + section)
    record_sighting(session, event=judged)  # as anpr.jobs.footage.Recorder stores its own
    late_exits(session, entry=judged)  # a section's entry posted after its exit (a backlog)
    stored_id = _event_id(session, event)
    assert stored_id is not None  # flushed by record_event
    session.add(
        IngestReceipt(
            camera_id=camera.id, track_id=event.track_id, first_seen=event.first_seen, event_id=stored_id
        )
    )
    log_change(
        session,
        actor=f"camera:{camera.id}",
        action="ingest",
        entity="events",
        entity_id=stored_id,
        changes={"camera_id": camera.id, "track_id": event.track_id, "files": len(files)},
    )
    session.flush()
    return _result(session, stored_id, duplicate=False)


def already_ingested(session: Session, *, camera: Camera, event: EventIn) -> IngestResult | None:
    """What an earlier post of this event recorded, if there was one."""
    earlier = _receipt(session, camera, event)
    return _result(session, earlier.event_id, duplicate=True) if earlier else None


def _event_id(session: Session, event: EventIn) -> int | None:
    return session.exec(
        select(Event.id).where(
            Event.site_id == event.site_id,
            Event.track_id == event.track_id,
            Event.first_seen == event.first_seen,
        )
    ).first()


def _receipt(session: Session, camera: Camera, event: EventIn) -> IngestReceipt | None:
    return session.exec(
        select(IngestReceipt).where(
            IngestReceipt.camera_id == camera.id,
            IngestReceipt.track_id == event.track_id,
            IngestReceipt.first_seen == event.first_seen,
        )
    ).first()


def _result(session: Session, event_id: int, *, duplicate: bool) -> IngestResult:
    stored = session.get(Event, event_id)
    assert stored is not None  # a receipt's event is never deleted
    violations = session.exec(
        select(Violation).where(Violation.event_id == event_id).order_by(col(Violation.id))
    ).all()
    evidence = [Evidence(**item) for item in stored.data.get("evidence", [])]
    return IngestResult(
        event_id=event_id,
        duplicate=duplicate,
        violations=[(v.id, v.code, v.status) for v in violations if v.id is not None],
        evidence=evidence,
    )
