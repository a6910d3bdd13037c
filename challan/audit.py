"""The append-only audit log: who changed what, when and why, hash-chained so that rewriting it shows.

Entries are written in the same transaction as the change they describe (so a refused change leaves
none) and never updated; the database refuses UPDATE and DELETE on the table. When the transaction
commits, each of its entries is sealed: one link in `audit_chain` per entry, in commit order, holding
the entry's place (`seq`), the hash of the link before and its own hash (challan.chain). Sealing
takes a lock first (PostgreSQL: a transaction-scoped advisory lock; SQLite: the write lock the
transaction already holds), so two writers never link to the same predecessor; the chain's primary
key and the unique predecessor hash refuse a fork if one ever tried.

`verify_audit` walks the chain and compares what the log witnessed (a violation's status, a
challan's fine and number, an officer's role, a vehicle's owner) with the rows as they are now, so a
change made around the application shows up even where no trigger refuses it (see docs/challans.md)."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, or_, select

from challan.chain import GENESIS, link_digest
from challan.models import AuditEntry, Challan, Officer, Vehicle, Violation, utcnow

# pg_advisory_xact_lock key of the chain's tail ("anpr" in ASCII): one writer seals at a time.
CHAIN_LOCK = 0x616E7072
_PENDING = "anpr.audit.unsealed"  # Session.info: this transaction's entries, to seal on commit
_WATCHED = "anpr.audit.watched"


class AuditLink(SQLModel, table=True):
    """One link of the chain: seals audit entry `entry_id` as number `seq`. Append-only, like the log."""

    __tablename__ = "audit_chain"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    entry_id: int = Field(foreign_key="audit_log.id", unique=True)
    prev_digest: str = Field(min_length=64, max_length=64, unique=True)  # GENESIS for the first
    digest: str = Field(min_length=64, max_length=64)


def log_change(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    changes: dict | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """`changes` maps a field to [old, new] for updates, or to its value for new records. The entry
    is sealed into the chain when the session commits."""
    entry = AuditEntry(
        at=at or utcnow(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        reason=reason,
        changes=changes or {},
    )
    session.add(entry)
    _watch(session)
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def _watch(session: Session) -> None:
    """Seal on commit, forget on rollback: listeners on this session only (no global hooks)."""
    if session.info.get(_WATCHED):
        return
    session.info[_WATCHED] = True
    sa.event.listen(session, "before_commit", _seal)
    sa.event.listen(session, "after_transaction_end", _forget)


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the session's transaction ended: committed (sealed) or not
        session.info.pop(_PENDING, None)


def _seal(session: Session) -> None:
    """Link this transaction's entries to the chain's tail, in the order they were written."""
    if session.in_nested_transaction():
        return  # a savepoint; the enclosing transaction seals
    entries = session.info.pop(_PENDING, None)
    if not entries:
        return
    session.flush()
    ids = [entry.id for entry in entries if entry.id is not None]
    connection = session.connection()
    if not _has_chain(connection):
        return  # a database before revision 0004, which seals the entries it finds in id order
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(CHAIN_LOCK)))
    link, log = _tables()
    tail = connection.execute(
        sa.select(link.c.seq, link.c.digest).order_by(link.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (tail.seq, tail.digest) if tail else (0, GENESIS)
    unsealed = (
        sa.select(log)
        .select_from(log.outerjoin(link, link.c.entry_id == log.c.id))
        .where(log.c.id.in_(ids), link.c.seq.is_(None))
        .order_by(log.c.id)
    )
    rows = []
    for entry in connection.execute(unsealed):  # as stored: the JSON and the time read back
        seq += 1
        digest = _digest(seq, entry, prev)
        rows.append({"seq": seq, "entry_id": entry.id, "prev_digest": prev, "digest": digest})
        prev = digest
    if rows:
        connection.execute(sa.insert(link), rows)


def _has_chain(connection: sa.Connection) -> bool:
    """Whether the database has the chain's table; remembered per engine once it has (only tests
    write to a database older than the code, and a table is never dropped but by a downgrade)."""
    if connection.engine in _chained:
        return True
    if sa.inspect(connection).has_table(AuditLink.__tablename__):
        _chained.add(connection.engine)
        return True
    return False


_chained: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _tables() -> tuple[sa.Table, sa.Table]:
    return AuditLink.metadata.tables["audit_chain"], AuditEntry.metadata.tables["audit_log"]


def _digest(seq: int, entry: Any, prev: str) -> str:
    return link_digest(
        seq=seq,
        entry_id=entry.id,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        entity=entry.entity,
        entity_id=entry.entity_id,
        reason=entry.reason,
        changes=entry.changes,
        prev=prev,
    )


def audit_trail(session: Session, *, entity: str | None = None, entity_id: object = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(col(AuditEntry.id))
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    return list(session.exec(query))


def violation_trail(session: Session, *, violation: Violation) -> list[AuditEntry]:
    """The violation's history with its challan's and payments', oldest first."""
    keys = [("violations", str(violation.id))]
    if violation.challan is not None:
        keys.append(("challans", str(violation.challan.id)))
        keys += [("payments", str(p.id)) for p in violation.challan.payments]
    clauses = [(AuditEntry.entity == e) & (AuditEntry.entity_id == i) for e, i in keys]
    return list(session.exec(select(AuditEntry).where(or_(*clauses)).order_by(col(AuditEntry.id))))


# --- verification ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Witness:
    """What the audit log records of a table's rows: the fields `audit verify` compares with the rows."""

    model: Any
    noun: str
    fields: tuple[str, ...]
    defaults: dict = field(default_factory=dict)  # what a creating entry implies without saying


WITNESSED: dict[str, Witness] = {
    "violations": Witness(Violation, "violation", ("status",)),
    "challans": Witness(
        Challan, "challan", ("number", "psid", "fine_pkr", "fine_schedule", "plate", "due_on")
    ),
    "officers": Witness(Officer, "officer", ("username", "role", "active"), {"active": True}),
    "vehicles": Witness(
        Vehicle,
        "vehicle",
        (
            "plate",
            "registration_year",
            "vehicle_class",
            "make",
            "colour",
            "owner_name",
            "owner_cnic",
            "owner_address",
        ),
    ),
}
BATCH = 1000


@dataclass(frozen=True)
class AuditReport:
    entries: int  # links walked (up to the first broken one)
    head: str  # the last link's hash: record it elsewhere and pass it back as `expected_head`
    rows: int  # rows compared with what the log witnessed
    broken: str | None = None  # the first broken link, named by its entry
    unexplained: tuple[str, ...] = ()  # rows whose state no audit entry explains

    @property
    def intact(self) -> bool:
        return self.broken is None and not self.unexplained

    def summary(self) -> str:
        if not self.intact:
            return f"audit log broken: {self.broken or self.unexplained[0]}"
        return (
            f"audit log intact: {self.entries} entries chained, head {self.head}; "
            f"{self.rows} records agree with it"
        )

    def to_json(self) -> dict:
        return {
            "intact": self.intact,
            "entries": self.entries,
            "head": self.head,
            "rows": self.rows,
            "broken": self.broken,
            "unexplained": list(self.unexplained),
        }


def verify_audit(session: Session, *, expected_head: str | None = None) -> AuditReport:
    """Walk the chain from its first link, stopping at the first broken one; check that every entry
    is in it (and `expected_head`, a head an earlier run printed, still is); compare the witnessed
    fields of every row with the last value the log recorded for them."""
    connection = session.connection()
    entries, head, broken = _walk_chain(connection, expected_head)
    rows, unexplained = _compare_witnessed(connection)
    return AuditReport(entries=entries, head=head, rows=rows, broken=broken, unexplained=tuple(unexplained))


def _walk_chain(connection: sa.Connection, expected_head: str | None) -> tuple[int, str, str | None]:
    link, log = _tables()
    query = (
        sa.select(link.c.seq, link.c.prev_digest, link.c.digest, log)
        .select_from(link.join(log, log.c.id == link.c.entry_id))
        .order_by(link.c.seq)
        .execution_options(yield_per=BATCH)
    )
    walked, prev, previous_entry, found = 0, GENESIS, None, expected_head is None
    for row in connection.execute(query):
        after = f"entry {previous_entry}" if previous_entry is not None else "the start of the chain"
        if row.seq != walked + 1:
            gap = (
                f"link {walked + 1} is"
                if row.seq == walked + 2
                else f"links {walked + 1} to {row.seq - 1} are"
            )
            return walked, prev, f"entry {row.id}: {gap} missing before it (entries were removed)"
        if row.prev_digest != prev:
            return (
                walked,
                prev,
                f"entry {row.id} (link {row.seq}) does not follow {after}: the chain was cut or rewritten",
            )
        if _digest(row.seq, row, prev) != row.digest:
            return walked, prev, f"entry {row.id} (link {row.seq}) was changed after it was written"
        walked, prev, previous_entry = row.seq, row.digest, row.id
        found = found or row.digest == expected_head
    if not found:
        return (
            walked,
            prev,
            f"the chain no longer holds head {expected_head}: entries after it were removed or rewritten",
        )
    unsealed = connection.execute(
        sa.select(log.c.id)
        .select_from(log.outerjoin(link, link.c.entry_id == log.c.id))
        .where(link.c.seq.is_(None))
        .order_by(log.c.id)
        .limit(1)
    ).scalar()
    if unsealed is not None:
        return walked, prev, f"entry {unsealed} is not in the chain: it was written around the application"
    return walked, prev, None


def _compare_witnessed(connection: sa.Connection) -> tuple[int, list[str]]:
    _, log = _tables()
    witnessed: dict[str, dict[str, dict]] = {table: {} for table in WITNESSED}
    entries = (
        sa.select(log.c.entity, log.c.entity_id, log.c.changes)
        .where(log.c.entity.in_(list(WITNESSED)))
        .order_by(log.c.id)
        .execution_options(yield_per=BATCH)
    )
    for entity, entity_id, changes in connection.execute(entries):
        witness = WITNESSED[entity]
        state = witnessed[entity].setdefault(entity_id, dict(witness.defaults))
        for name in witness.fields:
            if name in (changes or {}):
                value = changes[name]
                # Witnessed fields are plain values, so a pair is always [old, new].
                state[name] = value[1] if isinstance(value, list) and len(value) == 2 else value
    compared, problems = 0, []
    for table, witness in WITNESSED.items():
        columns = [col(witness.model.id), *(col(getattr(witness.model, name)) for name in witness.fields)]
        query = sa.select(*columns).order_by(columns[0]).execution_options(yield_per=BATCH)
        for row in connection.execute(query):
            compared += 1
            recorded = witnessed[table].pop(str(row.id), None)
            if recorded is None:
                problems.append(
                    f"{witness.noun} {row.id} has no audit entry: it was written around the application"
                )
                continue
            for name in witness.fields:
                now = _plain(getattr(row, name))
                if name in recorded and now != recorded[name]:
                    problems.append(
                        f"{witness.noun} {row.id}: {name} is {_show(now)}, but the audit log last recorded"
                        f" {_show(recorded[name])}"
                    )
        problems += [
            f"{witness.noun} {key} is in the audit log but not in its table" for key in witnessed[table]
        ]
    return compared, problems


def _plain(value: Any) -> Any:
    """A column's value as the audit log's JSON holds it."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
