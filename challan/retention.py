"""Privacy by design: what the cameras saw of a vehicle that did nothing is not kept for ever.

A vehicle is innocent when no violation refers to it (its event's own, or a section's average speed
naming it as the entry), no alert was raised on it or names it (a cloned plate's other sighting),
and no violation's or alert's evidence is one of its files. Its records go `hours` after it was
last seen (ANPR_SIGHTING_RETENTION, 72 h unless set; 0 keeps them for ever):

- its sighting is deleted;
- its event is redacted, not deleted (events are never deleted: a database trigger refuses it, and
  an ingest receipt points at the row so that a camera's retry stores nothing twice): the plate,
  its candidates, the colour and the evidence list go; site, track, times, type and speed stay;
- its evidence files under the evidence folder are deleted, after the rows are committed gone, and
  only those no record still names (by SHA-256) whose bytes are still the ones recorded.

The purge runs in batches, one transaction each, one at a time (PostgreSQL: an advisory lock;
SQLite: the write lock), so that a batch's candidates are checked again where they are changed.
Each batch is one audit entry (action `purge`) listing the files it let go; a second entry
(`purge_files`) says what became of them. A crash between the two leaves the first without the
second, and the next purge deletes those files then (the audit log is the journal)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from anpr.errors import ConfigError
from challan import crud
from challan.alerts import CLONE_WINDOW
from challan.audit import log_change
from challan.evidence import resolve, sha256_file
from challan.hotlists import CLONED_PLATE
from challan.models import Alert, AuditEntry, Event, EvidenceFile, Sighting, Violation, utcnow
from challan.settings import Settings

log = logging.getLogger("challan.retention")

ACTOR = "retention"
VARIABLE = "ANPR_SIGHTING_RETENTION"
# The cloned-plate check looks back this far on the sightings: a shorter retention would blind it.
MIN_HOURS = CLONE_WINDOW.total_seconds() / 3600
BATCH = 200  # vehicles a transaction (and an audit entry): SQLite's write lock is held this long
CHUNK = 100  # values in one IN (...) or OR of LIKEs
# A file written or touched this recently may be named by a transaction still open: left for later.
FILE_GRACE = timedelta(minutes=10)
REPLAY_WINDOW = timedelta(days=30)  # how far back a purge looks for file deletions a crash cut short
PURGE_LOCK = 0x616E7073  # pg_advisory_xact_lock key ("anps"): one purge batch at a time
EVERY_S = 3600.0  # the hub purges hourly
FIRST_AFTER_S = 300.0  # ... first a few minutes after it starts (a crash loop purges nothing twice)
AVERAGE_SPEED = "AVERAGE_SPEED"  # challan.section's code: its details name the entry sighting

Key = tuple[str, int, datetime]  # site, track, first_seen: one vehicle at one site
LIVE_EVENT = col(Event.data)["purged_at"].as_string().is_(None)  # an event not redacted yet


def retention_hours(settings: Settings) -> float | None:
    """The retention in hours, or None when it is off (0); a ConfigError under MIN_HOURS."""
    hours = settings.sighting_retention_hours
    if hours == 0:
        return None
    if hours < MIN_HOURS:
        raise ConfigError(
            f"{VARIABLE}={hours:g}: give at least {MIN_HOURS:g} hours (the cloned-plate check looks back "
            f"{MIN_HOURS:g} h), or 0 to keep sightings for ever"
        )
    return hours


@dataclass
class PurgeReport:
    retention_hours: float | None  # None: retention off, nothing done
    before: datetime | None  # vehicles last seen before this went
    dry_run: bool = False
    sightings: int = 0  # deleted
    events: int = 0  # redacted
    files_deleted: int = 0
    files_kept: int = 0  # still named by a record, changed since, too recent, or outside the folder
    files_missing: int = 0

    def to_json(self) -> dict:
        return {
            "retention_hours": self.retention_hours,
            "before": self.before.isoformat() if self.before else None,
            "dry_run": self.dry_run,
            "sightings": self.sightings,
            "events": self.events,
            "files_deleted": self.files_deleted,
            "files_kept": self.files_kept,
            "files_missing": self.files_missing,
        }


@dataclass(frozen=True)
class _File:
    path: str
    sha256: str


@dataclass
class _Batch:
    sightings: list[int] = field(default_factory=list)  # to delete
    events: list[int] = field(default_factory=list)  # to redact
    files: list[_File] = field(default_factory=list)
    references: Counter[str] = field(default_factory=Counter)  # what its rows name, row by row


def purge(
    engine: Engine,
    *,
    settings: Settings,
    now: datetime | None = None,
    dry_run: bool = False,
    stop: threading.Event | None = None,
) -> PurgeReport:
    """Purge what the retention lets go (see the module's docstring); `dry_run` counts it only."""
    hours = retention_hours(settings)
    if hours is None:
        return PurgeReport(None, None, dry_run)
    now = now or utcnow()
    report = PurgeReport(hours, now - timedelta(hours=hours), dry_run)
    root = Path(settings.evidence_dir)
    live = _live_references(engine)
    if not dry_run:
        _finish_earlier(engine, root, now, report, live)
    planned: list[_File] = []
    gone: set[int] = set()  # the events a dry run would redact
    # Each vehicle's sighting with its event; then the events left (stored before sightings were).
    for table in ("sightings", "events"):
        after = 0
        while stop is None or not stop.is_set():
            with Session(engine, expire_on_commit=False) as session:
                _lock(session)
                batch, after = _next_batch(session, table, report, after, skip=gone)
                if batch is None:
                    break
                if dry_run:
                    gone.update(batch.events)
                    live -= batch.references
                    planned += batch.files
                    report.sightings += len(batch.sightings)
                    report.events += len(batch.events)
                    continue
                entry = _let_go(session, table, batch, report)
                session.commit()
            if entry is not None:
                live -= batch.references
                _delete_files(engine, root, entry, batch.files, report, live)
    if dry_run:
        with Session(engine) as session:
            named = _named(session, planned, live)
        report.files_deleted = len({(f.path, f.sha256) for f in planned if f.sha256 not in named})
    return report


def _lock(session: Session) -> None:
    if session.connection().dialect.name == "postgresql":
        session.exec(sa.select(sa.func.pg_advisory_xact_lock(PURGE_LOCK)))  # type: ignore[call-overload]
    else:
        crud.lock_for_change(session)


def _next_batch(
    session: Session, table: str, report: PurgeReport, after: int, skip: set[int]
) -> tuple[_Batch | None, int]:
    """The next candidates after id `after` (innocent as far as SQL tells), less those a record
    names in JSON (a cloned plate's other sighting, a section's entry) or by a file, and the events
    in `skip` (a dry run's, counted already); None when done."""
    assert report.before is not None
    model: type[Sighting] | type[Event] = Sighting if table == "sightings" else Event
    rows = session.exec(_candidates(model, report.before, after)).all()
    if not rows:
        return None, after
    named_keys = _named_keys(session, report.before, min(r.first_seen for r in rows))
    # A sighting goes with its vehicle's event (innocent too: the candidates' query says so).
    events = _events_of(session, [_key(r) for r in rows]) if model is Sighting else {}
    files = {
        r.id: [_File(e["path"], e["sha256"]) for x in (r, events.get(_key(r))) if x for e in _evidence(x)]
        for r in rows
    }
    named_files = _named(session, [f for fs in files.values() for f in fs])
    batch = _Batch()
    for row in rows:
        if _key(row) in named_keys or any(f.sha256 in named_files for f in files[row.id]):
            continue
        if model is Event and row.id in skip:
            continue
        event = events.get(_key(row)) if model is Sighting else row
        if model is Sighting:
            batch.sightings.append(row.id)
            batch.references.update(_shas(row.evidence))
        if event is not None and event.id is not None:
            batch.events.append(event.id)
            batch.references.update(_shas((event.data or {}).get("evidence", [])))
        batch.files += files[row.id]
    return batch, rows[-1].id


def _events_of(session: Session, keys: Sequence[Key]) -> dict[Key, Event]:
    """The events, not redacted yet, of these vehicles."""
    found: dict[Key, Event] = {}
    for chunk in _chunks(sorted(set(keys))):
        by_key = sa.tuple_(col(Event.site_id), col(Event.track_id), col(Event.first_seen)).in_(chunk)
        found |= {_key(e): e for e in session.exec(select(Event).where(by_key, LIVE_EVENT))}
    return found


def _candidates(model: type[Sighting] | type[Event], before: datetime, after: int):
    alerted = sa.exists().where(
        col(Alert.site_id) == model.site_id,
        col(Alert.track_id) == model.track_id,
        col(Alert.first_seen) == model.first_seen,
    )
    if model is Event:
        fined = sa.exists().where(col(Violation.event_id) == col(Event.id))
        query = select(Event).where(LIVE_EVENT)
    else:
        fined = (
            sa.exists()
            .where(
                col(Event.site_id) == col(Sighting.site_id),
                col(Event.track_id) == col(Sighting.track_id),
                col(Event.first_seen) == col(Sighting.first_seen),
            )
            .where(col(Violation.event_id) == col(Event.id))
        )
        query = select(Sighting)  # type: ignore[arg-type]
    return (
        query.where(col(model.last_seen) < before, col(model.id) > after, ~alerted, ~fined)
        .order_by(col(model.id))
        .limit(BATCH)
    )


def _key(row: Sighting | Event | Alert) -> Key:
    return (row.site_id, row.track_id, row.first_seen)


def _evidence(row: Sighting | Event) -> list[dict]:
    items = row.evidence if isinstance(row, Sighting) else (row.data or {}).get("evidence", [])
    return [e for e in items if isinstance(e, dict) and e.get("path") and e.get("sha256")]


def _named_keys(session: Session, before: datetime, earliest: datetime) -> set[Key]:
    """Vehicles a record names in its details: the other sighting of a cloned plate (raised within
    CLONE_WINDOW of it, so before `before` + the window), and a section's entry (fined after it)."""
    keys: set[Key] = set()
    cloned = select(Alert.details).where(
        Alert.kind == CLONED_PLATE, col(Alert.seen_at) < before + CLONE_WINDOW
    )
    for details in session.exec(cloned):
        keys |= _named_key(
            details, "other_site_id", "other_track_id", (details.get("other_seen") or [None])[0]
        )
    sections = select(Violation.details).where(
        Violation.code == AVERAGE_SPEED, col(Violation.occurred_at) > earliest
    )
    for details in session.exec(sections):
        keys |= _named_key(details, "entry_site_id", "entry_track_id", details.get("entry_at"))
    return keys


def _named_key(details: Mapping, site: str, track: str, first_seen: object) -> set[Key]:
    try:
        return {(str(details[site]), int(details[track]), datetime.fromisoformat(str(first_seen)))}
    except (KeyError, TypeError, ValueError):
        return set()


def _named(session: Session, files: Sequence[_File], live: Counter[str] | None = None) -> set[str]:
    """The SHA-256 of `files` that a record names: a violation's evidence, an alert's, and (given
    `live`, the references the sightings and events not redacted hold) a sighting's or event's."""
    shas = sorted({f.sha256 for f in files})
    named: set[str] = set()
    for chunk in _chunks(shas):
        named |= set(session.exec(select(EvidenceFile.sha256).where(col(EvidenceFile.sha256).in_(chunk))))
    named |= _in_json(session, select(Alert.evidence), col(Alert.evidence), shas)  # alerts are few
    return named | {sha for sha in shas if live is not None and live[sha] > 0}


def _live_references(engine: Engine) -> Counter[str]:
    """How many sightings and events not redacted name each file (by SHA-256): one pass at the start
    of a purge, kept up to date as it lets rows go. A row stored since names a file only by writing
    it again (or touching it: challan.ingest), which keeps the file for FILE_GRACE."""
    live: Counter[str] = Counter()
    with Session(engine) as session:
        for evidence in session.exec(select(Sighting.evidence).execution_options(yield_per=5000)):
            live.update(_shas(evidence))
        events = select(Event.data).where(LIVE_EVENT).execution_options(yield_per=5000)
        for data in session.exec(events):
            live.update(_shas((data or {}).get("evidence", [])))
    return live


def _shas(items: object) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(e["sha256"]) for e in items if isinstance(e, dict) and e.get("path") and e.get("sha256")]


def _in_json(session: Session, query, column, shas: Sequence[str]) -> set[str]:
    """Which of `shas` the JSON `column` of the rows of `query` holds (a scan; LIKE on its text)."""
    found: set[str] = set()
    text = sa.cast(column, sa.Text)
    for chunk in _chunks([s for s in shas if s.isalnum()]):  # hex: nothing LIKE would read as a pattern
        for value in session.exec(query.where(sa.or_(*(text.like(f"%{sha}%") for sha in chunk)))):
            blob = str(value)
            found |= {sha for sha in chunk if sha in blob}
    return found


def _chunks(items: Sequence) -> Iterable[Sequence]:
    return (items[i : i + CHUNK] for i in range(0, len(items), CHUNK))


def _let_go(session: Session, table: str, batch: _Batch, report: PurgeReport) -> AuditEntry | None:
    """Delete the batch's sightings and redact its events, with the audit entry that journals their
    files; None when there was nothing to do."""
    if not batch.sightings and not batch.events:
        return None
    at, deleted = utcnow(), 0
    if batch.sightings:
        query = sa.delete(Sighting).where(col(Sighting.id).in_(batch.sightings))
        deleted = session.connection().execute(query).rowcount
        report.sightings += deleted
    events = session.exec(select(Event).where(col(Event.id).in_(batch.events), LIVE_EVENT)).all()
    for event in events:
        event.plate_text, event.plate_confidence, event.data = "", 0.0, _redacted(event.data, at)
        session.add(event)
    report.events += len(events)
    assert report.before is not None and report.retention_hours is not None
    entry = log_change(
        session,
        actor=ACTOR,
        action="purge",
        entity=table,
        entity_id=report.before.isoformat(timespec="seconds"),
        reason=f"no violation and no alert, last seen over {report.retention_hours:g} h ago ({VARIABLE})",
        changes={
            "retention_hours": report.retention_hours,
            "before": report.before.isoformat(),
            "sightings": deleted,
            "events": sorted(e.id for e in events if e.id is not None),
            "files": [list(f) for f in sorted({(f.path, f.sha256) for f in batch.files})],
        },
        at=at,
    )
    session.flush()
    return entry


# What stays of a redacted event: facts about traffic, nothing that tells whose vehicle it was.
KEPT = (
    "site_id",
    "track_id",
    "vehicle_type",
    "first_seen",
    "last_seen",
    "speed_kmh",
    "speed_method",
    "direction",
)
NO_PLATE: dict[str, object] = {
    "text": "",
    "year": None,
    "confidence": 0.0,
    "candidates": [],
    "year_candidates": [],
}


def _redacted(data: dict | None, at: datetime) -> dict:
    kept = {name: (data or {}).get(name) for name in KEPT}
    return kept | {"plate": dict(NO_PLATE), "colour": None, "evidence": [], "purged_at": at.isoformat()}


def _delete_files(
    engine: Engine,
    root: Path,
    entry: AuditEntry,
    files: Sequence[_File],
    report: PurgeReport,
    live: Counter[str],
) -> None:
    """Delete the files a committed batch let go, unless still named, then say so in the log."""
    with Session(engine, expire_on_commit=False) as session:
        named = _named(session, files, live)
    outcomes = Counter(
        _delete_file(root, path, sha, named) for path, sha in {(f.path, f.sha256) for f in files}
    )
    deleted, missing, kept = outcomes["deleted"], outcomes["missing"], outcomes["kept"]
    report.files_deleted += deleted
    report.files_missing += missing
    report.files_kept += kept
    with Session(engine) as session:
        log_change(
            session,
            actor=ACTOR,
            action="purge_files",
            entity=entry.entity,
            entity_id=entry.id,
            changes={"deleted": deleted, "missing": missing, "kept": kept},
        )
        session.commit()


def _delete_file(root: Path, path: str, sha: str, named: set[str]) -> str:
    """deleted, missing or kept (named by a record, changed, touched lately, or outside the folder)."""
    base = root.resolve()
    target = resolve(path, base).resolve()
    if sha in named or not target.is_relative_to(base):
        return "kept"
    try:
        stat = target.stat()
        if datetime.fromtimestamp(stat.st_mtime, UTC) > utcnow() - FILE_GRACE:
            return "kept"  # written again lately: a transaction may be about to name it
        if sha256_file(target) != sha:
            return "kept"  # not the bytes recorded: some other file now has the name
        if target.stat().st_mtime != stat.st_mtime:
            return "kept"  # touched while it was read: an ingest is storing these bytes again
        target.unlink()
    except FileNotFoundError:
        return "missing"
    return "deleted"


def _finish_earlier(
    engine: Engine, root: Path, now: datetime, report: PurgeReport, live: Counter[str]
) -> None:
    """Delete the files of earlier purges that a crash (or a stop) left undeleted."""
    later = sa.orm.aliased(AuditEntry)
    done = sa.exists().where(
        col(later.action) == "purge_files",
        col(later.entity) == col(AuditEntry.entity),
        col(later.entity_id) == sa.cast(col(AuditEntry.id), sa.String),
    )
    query = select(AuditEntry).where(
        AuditEntry.action == "purge", col(AuditEntry.at) >= now - REPLAY_WINDOW, ~done
    )
    with Session(engine, expire_on_commit=False) as session:
        unfinished = session.exec(query.order_by(col(AuditEntry.id))).all()
    for entry in unfinished:
        files = [_File(p, s) for p, s in entry.changes.get("files", [])]
        log.info("purge %s: deleting the %d files a stop left behind", entry.id, len(files))
        _delete_files(engine, root, entry, files, report, live)


class PurgeTimer:
    """Purges every `every_s` seconds in a thread of its own, the first `first_after_s` after
    `start`; for long-running processes (the hub's web app, `anpr watch`). A purge that fails is
    logged and tried again next time."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        every_s: float | None = None,  # EVERY_S
        first_after_s: float | None = None,  # FIRST_AFTER_S
        on_purge: Callable[[PurgeReport], None] | None = None,
    ):
        self.engine, self.settings = engine, settings
        self.every_s = EVERY_S if every_s is None else every_s
        self.first_after_s = FIRST_AFTER_S if first_after_s is None else first_after_s
        self.on_purge = on_purge
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PurgeTimer:
        if retention_hours(self.settings) is None:
            log.warning("%s is 0: the sightings of vehicles that did nothing are kept for ever", VARIABLE)
        self._thread = threading.Thread(target=self._run, name="sighting-purge", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait_s: float = 10.0) -> None:
        """Stop after the batch under way (its transaction is never cut in half)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait_s)

    def _run(self) -> None:
        wait = self.first_after_s
        while not self._stop.wait(wait):
            wait = self.every_s
            try:
                _housekeep(self.engine)
                report = purge(self.engine, settings=self.settings, stop=self._stop)
            except Exception:
                log.exception("sighting purge failed; trying again in %.0f s", self.every_s)
                continue
            if report.sightings or report.events:
                log.info("purged %s", report.to_json())
            if self.on_purge is not None:
                self.on_purge(report)


def _housekeep(engine: Engine) -> None:
    """The portal's own leftovers, on the same timer: ended sessions and old failed sign-ins."""
    from challan.users import housekeep

    with Session(engine) as session:
        gone = housekeep(session)
        session.commit()
    if any(gone.values()):
        log.info("housekeeping deleted %s", gone)


def start_purging(url: str | None = None, settings: Settings | None = None) -> PurgeTimer:
    """For `anpr watch`: an hourly purge of the records at `url` until `.stop()`."""
    from challan.db import get_engine
    from challan.settings import get_settings

    settings = settings or get_settings()
    return PurgeTimer(get_engine(url or settings.database_url), settings).start()
