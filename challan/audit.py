"""The append-only audit log: who changed what, when and why. Entries are written in the same
transaction as the change they describe (so a refused change leaves none) and never updated; the
database refuses UPDATE and DELETE on the table."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, or_, select

from challan.models import AuditEntry, Violation, utcnow


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
    """`changes` maps a field to [old, new] for updates, or to its value for new records."""
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
    return entry


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
