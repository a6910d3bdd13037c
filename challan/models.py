"""The records, layered per purpose as in full-stack-fastapi-template: `XBase` (shared fields),
`X(table=True)` (the row), `XPublic` (what leaves through the CLI's --json and the portal).

Nothing is deleted: rows change status, and every change is written to the append-only `audit_log`
(database triggers refuse UPDATE and DELETE there, and DELETE on every other table).
Times are stored in UTC and are timezone-aware in Python on SQLite and PostgreSQL alike."""

# No `from __future__ import annotations`: SQLModel resolves relationship annotations at class creation.
import hashlib
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Field, Relationship, SQLModel


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes in, UTC-aware datetimes out (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} (records need timezone-aware times)")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Status(StrEnum):
    """A violation's lifecycle; see lifecycle.TRANSITIONS for the allowed steps."""

    PENDING = "pending"
    APPROVED = "approved"
    ISSUED = "issued"
    PAID = "paid"
    CONTESTED = "contested"
    UPHELD = "upheld"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class Role(StrEnum):
    """An officer's role on the portal: officers review; admins also see the accounts."""

    OFFICER = "officer"
    ADMIN = "admin"


def _time(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


# --- officer accounts -----------------------------------------------------------------------------


class OfficerBase(SQLModel):
    username: str = Field(max_length=40, unique=True, index=True)
    role: str = Field(default=Role.OFFICER, max_length=16)  # a Role; checked by users.add_officer
    # Who the account is, as a notice names the officer who issued it (challan.users.officer_line);
    # null on accounts made before revision 0006 until `anpr officer edit` fills them in.
    full_name: str | None = Field(default=None, max_length=100)
    rank: str | None = Field(default=None, max_length=60)  # Inspector, Sub-Inspector, Warden ...
    badge_number: str | None = Field(default=None, max_length=20, unique=True, index=True)


class Officer(OfficerBase, table=True):
    """A portal account. Never deleted: disabling it (active=False) ends its sessions and tokens."""

    __tablename__ = "officers"
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=200)  # argon2id (challan.users)
    active: bool = True
    created_at: datetime = _time(default_factory=utcnow)
    # How often the officer (or an admin) signed the account out everywhere (challan.users.sign_out):
    # part of the stamp, so that tokens and sessions issued before stop working, the password kept
    sign_outs: int = Field(default=0, sa_column_kwargs={"server_default": "0"})

    @property
    def password_stamp(self) -> str:
        """Changes whenever the password does, or the account is signed out everywhere, so that
        sessions and tokens issued before die with it (the stamps of accounts never signed out are
        the password hash's alone, as before sign_outs existed)."""
        seed = self.password_hash if not self.sign_outs else f"{self.password_hash}\n{self.sign_outs}"
        return hashlib.sha256(seed.encode()).hexdigest()[:16]


class OfficerPublic(OfficerBase):
    active: bool


class OfficerSession(SQLModel, table=True):
    """A browser signed in to the portal. Its cookie holds a random id; only the id's SHA-256 is kept
    here, so a copy of this table opens no session. Signing out sets revoked_at; challan.web.sessions
    also refuses a session idle or open for longer than the settings allow."""

    __tablename__ = "officer_sessions"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)  # SHA-256 hex of the cookie's id
    officer_id: int = Field(foreign_key="officers.id", index=True)
    password_stamp: str = Field(max_length=16)  # Officer.password_stamp at sign-in
    csrf: str = Field(max_length=64)  # the CSRF value bound to the session at sign-in
    created_at: datetime = _time(default_factory=utcnow)
    last_seen_at: datetime = _time(default_factory=utcnow)
    revoked_at: datetime | None = _time(default=None)


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, by the name tried (known account or not, so that the back-off tells no one
    which names exist). A successful sign-in removes the name's failures (challan.users)."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_username_at", "username", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100)
    at: datetime = _time(default_factory=utcnow)


# --- sites and cameras ------------------------------------------------------------------------


class SiteBase(SQLModel):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    address: str | None = Field(default=None, max_length=300)
    latitude: float | None = None
    longitude: float | None = None


class Site(SiteBase, table=True):
    __tablename__ = "sites"
    created_at: datetime = _time(default_factory=utcnow)
    # The section a site the hub runs itself ends (challan.rules.SectionRules as JSON), as its last
    # footage job read it from the site file: an entry recorded after that site's exits pairs with
    # them (challan.section.late_exits). Cameras the hub does not run keep theirs in `cameras.rules`.
    section: dict | None = Field(default=None, sa_type=JSON)


class CameraBase(SQLModel):
    id: str = Field(primary_key=True, max_length=64)
    site_id: str = Field(foreign_key="sites.id", max_length=64, index=True)
    description: str | None = Field(default=None, max_length=300)
    serial: str | None = Field(default=None, max_length=100)
    calibrated_on: date | None = None


class Camera(CameraBase, table=True):
    __tablename__ = "cameras"
    created_at: datetime = _time(default_factory=utcnow)
    # A camera the hub does not run posts its events to /api/v1/ingest/events (challan.cameras): the
    # SHA-256 of its API key (the key itself is shown once, never stored), the rules of its site as
    # `anpr camera add` read them from the site file (challan.rules.SiteRules as JSON; the hub judges
    # its events by these), its events a minute, and when its key was revoked. Null on cameras the
    # hub runs itself.
    key_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    rules: dict | None = Field(default=None, sa_type=JSON)
    events_per_minute: int | None = None
    revoked_at: datetime | None = _time(default=None)


# --- vehicle registry -------------------------------------------------------------------------


class VehicleBase(SQLModel):
    plate: str = Field(max_length=16, unique=True, index=True)  # series + number, A-Z0-9
    registration_year: str | None = Field(default=None, max_length=4)
    vehicle_class: str = Field(max_length=40)  # a class of the fine schedule (fines.yaml `classes`)
    make: str | None = Field(default=None, max_length=80)
    colour: str | None = Field(default=None, max_length=40)


class VehicleCreate(VehicleBase):
    owner_name: str = Field(max_length=200)
    owner_cnic: str = Field(max_length=15)  # 12345-1234567-1
    owner_address: str | None = Field(default=None, max_length=400)


class Vehicle(VehicleCreate, table=True):
    __tablename__ = "vehicles"
    id: int | None = Field(default=None, primary_key=True)
    owner_cnic: str = Field(max_length=15, index=True)
    created_at: datetime = _time(default_factory=utcnow)
    updated_at: datetime = _time(default_factory=utcnow)


class VehiclePublic(VehicleBase):
    """No personal data: what anyone holding the plate may see."""


# --- events, violations, evidence ---------------------------------------------------------------


class Event(SQLModel, table=True):
    """One vehicle followed through footage (anpr.types.VehicleEvent), stored once."""

    __tablename__ = "events"
    __table_args__ = (sa.UniqueConstraint("site_id", "track_id", "first_seen", name="uq_events_track"),)
    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="sites.id", max_length=64, index=True)
    track_id: int
    vehicle_type: str = Field(max_length=20)
    first_seen: datetime = _time()
    last_seen: datetime = _time()
    plate_text: str = Field(default="", max_length=16)
    plate_confidence: float = 0.0
    speed_kmh: float | None = None
    data: dict = Field(default_factory=dict, sa_type=JSON)  # VehicleEvent.to_json(), as received
    recorded_at: datetime = _time(default_factory=utcnow)


class IngestReceipt(SQLModel, table=True):
    """An event a camera posted to the hub, once: a retry of the same camera's track and first_seen
    finds this row and stores nothing again (challan.ingest)."""

    __tablename__ = "ingest_receipts"
    __table_args__ = (
        sa.UniqueConstraint("camera_id", "track_id", "first_seen", name="uq_ingest_receipts_event"),
    )
    id: int | None = Field(default=None, primary_key=True)
    camera_id: str = Field(foreign_key="cameras.id", max_length=64, index=True)
    track_id: int
    first_seen: datetime = _time()
    event_id: int = Field(foreign_key="events.id", index=True)
    received_at: datetime = _time(default_factory=utcnow)


class EventPublic(SQLModel):
    id: int
    site_id: str
    track_id: int
    vehicle_type: str
    first_seen: datetime
    last_seen: datetime
    plate_text: str
    plate_confidence: float
    speed_kmh: float | None


class ViolationBase(SQLModel):
    code: str = Field(max_length=32, index=True)  # OVER_SPEED | RED_LIGHT | ... (fines.yaml)
    occurred_at: datetime = _time(index=True)
    vehicle_type: str = Field(max_length=20)
    # The plate as the camera read it; never changed. An officer's correction goes in corrected_plate.
    plate_text: str = Field(default="", max_length=16, index=True)
    plate_year: str | None = Field(default=None, max_length=4)
    plate_confidence: float = 0.0
    plate_candidates: list = Field(default_factory=list, sa_type=JSON)
    details: dict = Field(default_factory=dict, sa_type=JSON)  # speed_kmh, limit_kmh, seconds_into_red...


class Violation(ViolationBase, table=True):
    __tablename__ = "violations"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "code", name="uq_violations_offence"),
        sa.CheckConstraint(f"status IN {tuple(s.value for s in Status)!r}", name="ck_violations_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", index=True)
    site_id: str = Field(foreign_key="sites.id", max_length=64, index=True)
    status: str = Field(default=Status.PENDING, max_length=16, index=True)
    corrected_plate: str | None = Field(default=None, max_length=16, index=True)
    reviewed_by: str | None = Field(default=None, max_length=100)
    reviewed_at: datetime | None = _time(default=None)
    rejection_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = _time(default_factory=utcnow)
    updated_at: datetime = _time(default_factory=utcnow)

    event: Event = Relationship()
    site: Site = Relationship()
    evidence: list["EvidenceFile"] = Relationship(
        back_populates="violation", sa_relationship_kwargs={"order_by": "EvidenceFile.id"}
    )
    challan: "Challan" = Relationship(back_populates="violation", sa_relationship_kwargs={"uselist": False})

    @property
    def plate(self) -> str:
        """The plate the challan is addressed to: the officer's correction, else the camera's read."""
        return self.corrected_plate or self.plate_text


class EvidenceBase(SQLModel):
    kind: str = Field(max_length=32)  # scene_before | scene_at | scene_after | plate_crop | clip
    path: str = Field(max_length=500)
    sha256: str = Field(min_length=64, max_length=64)


class EvidenceFile(EvidenceBase, table=True):
    __tablename__ = "evidence"
    __table_args__ = (sa.UniqueConstraint("violation_id", "kind", "sha256", name="uq_evidence_file"),)
    id: int | None = Field(default=None, primary_key=True)
    violation_id: int = Field(foreign_key="violations.id", index=True)
    created_at: datetime = _time(default_factory=utcnow)

    violation: Violation = Relationship(back_populates="evidence")


# --- challans and payments -------------------------------------------------------------------------


class ChallanBase(SQLModel):
    number: str = Field(max_length=32, unique=True, index=True)
    issued_on: date
    due_on: date
    psid: str = Field(max_length=24, unique=True, index=True)  # payment reference
    fine_pkr: int
    fine_schedule: str = Field(max_length=64)  # the schedule id in force on the day of the offence
    fine_class: str = Field(max_length=40)  # the vehicle class the fine was looked up by
    plate: str = Field(max_length=16, index=True)  # as issued (corrected if an officer corrected it)
    officer: str = Field(max_length=100)  # the issuing officer's username
    # What is due after due_on, where the schedule in force on the offence day sets a late amount.
    late_fine_pkr: int | None = None
    # The issuing officer as the notice names them, copied from the account on the day of issue; null
    # where the approval came from no account (records from before 0006).
    officer_name: str | None = Field(default=None, max_length=100)
    officer_rank: str | None = Field(default=None, max_length=60)
    officer_badge: str | None = Field(default=None, max_length=20)


class Challan(ChallanBase, table=True):
    __tablename__ = "challans"
    id: int | None = Field(default=None, primary_key=True)
    violation_id: int = Field(foreign_key="violations.id", unique=True)
    issued_at: datetime = _time(default_factory=utcnow)
    contested_at: datetime | None = _time(default=None)
    contest_reason: str | None = Field(default=None, max_length=1000)
    # Who contested (lifecycle.contest_challan): the registered owner, or the driver of a vehicle the
    # registry does not know; null where an officer recorded a contest received by post or e-mail.
    contest_party: str | None = Field(default=None, max_length=16)  # owner | driver
    contest_cnic: str | None = Field(default=None, max_length=15)
    contest_contact: str | None = Field(default=None, max_length=100)  # phone, or e-mail (owners)
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = _time(default=None)
    decision_reason: str | None = Field(default=None, max_length=1000)

    violation: Violation = Relationship(back_populates="challan")
    payments: list["Payment"] = Relationship(back_populates="challan")


class ChallanPublic(ChallanBase):
    issued_at: datetime
    contested_at: datetime | None = None
    contest_reason: str | None = None
    contest_party: str | None = None  # the contestant's CNIC and contact are personal: not here
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


class PaymentBase(SQLModel):
    reference: str = Field(max_length=64, unique=True)  # the bank's or ePay's transaction reference
    amount_pkr: int
    paid_at: datetime = _time(default_factory=utcnow)
    recorded_by: str = Field(max_length=100)


class Payment(PaymentBase, table=True):
    __tablename__ = "payments"
    # One reference whatever its letter case (BANK-1 is bank-1): lifecycle.record_payment stores it in
    # capitals, and this index holds for rows written before that too.
    __table_args__ = (
        sa.Index("uq_payments_reference_nocase", sa.func.upper(sa.text("reference")), unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    challan_id: int = Field(foreign_key="challans.id", index=True)

    challan: Challan = Relationship(back_populates="payments")


class PaymentPublic(PaymentBase):
    pass


# --- audit log ------------------------------------------------------------------------------------


class AuditEntry(SQLModel, table=True):
    """Who changed what, when and why. Written in the same transaction as the change; never updated."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_entity", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time(default_factory=utcnow)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)  # table name
    entity_id: str = Field(max_length=64)
    reason: str | None = Field(default=None, max_length=1000)
    changes: dict = Field(default_factory=dict, sa_type=JSON)  # {field: [old, new]} or {field: new}


class AuditPublic(SQLModel):
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    reason: str | None
    changes: dict


# --- the hub: sightings, hotlists, alerts (docs/hub.md) ---------------------------------------------


class Sighting(SQLModel, table=True):
    """Every vehicle a camera followed, with a violation or not: what the hub looks back on (the same
    plate at two sites: challan.alerts). Stored once per track as its event closes (site, track and
    first_seen are unique, as for events); unlike events, sightings of the innocent may be purged
    after a stated retention, so nothing else points at them."""

    __tablename__ = "sightings"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "track_id", "first_seen", name="uq_sightings_track"),
        sa.Index("ix_sightings_plate_seen", "plate_text", "first_seen"),
    )
    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="sites.id", max_length=64, index=True)
    track_id: int
    first_seen: datetime = _time(index=True)
    last_seen: datetime = _time()
    plate_text: str = Field(default="", max_length=16)  # the voted read; empty: unread
    plate_year: str | None = Field(default=None, max_length=4)
    plate_confidence: float = 0.0
    plate_candidates: list = Field(default_factory=list, sa_type=JSON)  # [{text, confidence}]
    vehicle_type: str = Field(max_length=20)
    colour: str | None = Field(default=None, max_length=20)
    speed_kmh: float | None = None
    evidence: list = Field(default_factory=list, sa_type=JSON)  # [{kind, path, sha256}]
    recorded_at: datetime = _time(default_factory=utcnow)


class HotlistEntry(SQLModel, table=True):
    """A plate on a named list (stolen, wanted ...). Never deleted: `anpr hotlist remove` sets
    removed_at, so an alert raised earlier still shows why; a plate is on a list once at a time."""

    __tablename__ = "hotlist"
    __table_args__ = (
        sa.Index(
            "uq_hotlist_listed",
            "plate",
            "list_name",
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    plate: str = Field(max_length=16, index=True)  # series + number, as challan.crud.normalize_plate
    list_name: str = Field(max_length=32)
    reason: str = Field(max_length=500)
    added_by: str = Field(max_length=100)
    added_at: datetime = _time(default_factory=utcnow)
    removed_by: str | None = Field(default=None, max_length=100)
    removed_at: datetime | None = _time(default=None)


class Alert(SQLModel, table=True):
    """What a control room acts on: a vehicle on a hotlist, or a plate that cannot be right (cloned,
    disagreeing with the registry, of no Pakistani format). Raised by the pipeline as the read
    settles; never changed or deleted. One per kind, plate and track (a re-run raises nothing twice)."""

    __tablename__ = "alerts"
    __table_args__ = (
        sa.UniqueConstraint("kind", "site_id", "track_id", "first_seen", "plate", name="uq_alerts_sighting"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)  # a hotlist's name, or challan.alerts.KINDS
    plate: str = Field(max_length=16, index=True)  # the listed plate (hotlists), else the plate read
    read_text: str = Field(default="", max_length=16)  # the camera's voted read
    match_kind: str | None = Field(default=None, max_length=8)  # exact | fuzzy (hotlists only)
    list_name: str | None = Field(default=None, max_length=32)
    reason: str = Field(max_length=500)
    site_id: str = Field(foreign_key="sites.id", max_length=64, index=True)
    track_id: int
    first_seen: datetime = _time()  # the track's, with site_id and track_id: the sighting
    seen_at: datetime = _time(index=True)  # when the read settled (or the vehicle left, unsettled)
    evidence: list = Field(default_factory=list, sa_type=JSON)  # [{kind, path, sha256}]
    details: dict = Field(default_factory=dict, sa_type=JSON)  # the other site, the registry's entry...
    raised_at: datetime = _time(default_factory=utcnow)


# --- what the CLI and the portal list ------------------------------------------------------------


class ViolationPublic(SQLModel):
    """One line of `anpr challan list --json`: a violation and, once issued, its challan."""

    id: int
    number: str | None  # null until issued
    plate: str  # corrected if an officer corrected it
    plate_read: str  # what the camera read
    violation: str  # code
    violation_title: str | None
    vehicle_type: str
    status: str
    fine_pkr: int | None  # the challan's fine; before issue, the schedule's amount if it has one
    occurred_at: datetime
    site: str
    site_name: str | None
    issued_on: date | None
    due_on: date | None
    psid: str | None
    officer: str | None


APPEND_ONLY_TABLES = ("audit_log", "evidence", "payments", "alerts")
NO_DELETE_TABLES = ("sites", "cameras", "vehicles", "events", "violations", "challans", "officers", "hotlist")
