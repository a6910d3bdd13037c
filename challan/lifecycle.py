"""An officer's review and a challan's life after it: approve (which issues the challan at once),
reject, pay, contest, uphold, cancel. Each step checks everything before writing, writes its audit
entries in the same transaction and flushes; the caller commits. A step that raises wrote nothing.
The contest policy lives here too: who may contest (`contestant`: the registered owner, or the
driver of a vehicle the registry does not know) and until when (`contest_deadline`, `can_contest`),
for the portal, the API, the CLI and the printed notice alike.

    pending -> approved -> issued -> paid
                                  -> contested -> upheld -> paid
                                               -> cancelled
    pending -> rejected
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from anpr.errors import InputError
from challan import evidence as evidence_files
from challan.audit import log_change
from challan.crud import (
    fine_for,
    get_challan,
    get_vehicle,
    get_violation,
    is_registered_owner,
    normalize_cnic,
    normalize_plate,
)
from challan.errors import EvidenceError, NotOwnerError, TransitionError
from challan.fines import offence_day
from challan.i18n import N_
from challan.models import Challan, Payment, Status, Violation, utcnow
from challan.settings import Settings, get_settings
from challan.users import get_officer

# The lifecycle. approve = pending -> approved -> issued in one step (the challan is issued at once).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.APPROVED, Status.REJECTED}),
    Status.APPROVED: frozenset({Status.ISSUED}),
    Status.ISSUED: frozenset({Status.PAID, Status.CONTESTED}),
    Status.CONTESTED: frozenset({Status.UPHELD, Status.CANCELLED}),
    Status.UPHELD: frozenset({Status.PAID}),  # a contest turned down leaves the fine to pay
}
# The audit log's action for the step into each status.
ACTIONS: dict[Status, str] = {
    Status.APPROVED: "approve",
    Status.REJECTED: "reject",
    Status.ISSUED: "issue",
    Status.PAID: "pay",
    Status.CONTESTED: "contest",
    Status.UPHELD: "uphold",
    Status.CANCELLED: "cancel",
}


def _required(value: str | None, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InputError(f"{what} must not be empty")
    return value


def _check(violation: Violation, target: Status) -> Status:
    """The violation's status now, if the lifecycle allows the step to `target` from it."""
    current = Status(violation.status)
    if target not in TRANSITIONS.get(current, frozenset()):
        raise TransitionError(_refusal(violation, target))
    return current


def _transition(
    session: Session,
    record: Violation | Challan,
    target: Status,
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
    changes: dict | None = None,
    **fields,
) -> None:
    """Move the violation (a challan's, where `record` is one) to `target`, set `fields` on `record`,
    log the step on the violation with `changes` besides the status, and flush."""
    violation = record if isinstance(record, Violation) else record.violation
    current = _check(violation, target)
    violation.status = target
    violation.updated_at = utcnow()
    for name, value in fields.items():
        setattr(record, name, value)
    log_change(
        session,
        actor=actor,
        action=ACTIONS[target],
        entity="violations",
        entity_id=violation.id,
        changes={"status": [current.value, target.value]} | (changes or {}),
        reason=reason,
        at=at,
    )
    session.flush()


def _refusal(violation: Violation, target: Status) -> str:
    number = f" (challan {violation.challan.number})" if violation.challan else ""
    allowed = {
        Status.APPROVED: "only a pending violation can be approved",
        Status.REJECTED: "only a pending violation can be rejected",
        Status.PAID: "only an issued or upheld challan can be paid",
        Status.CONTESTED: "only an issued, unpaid challan can be contested",
        Status.UPHELD: "only a contested challan can be upheld",
        Status.CANCELLED: "only a contested challan can be cancelled",
    }.get(target, f"it cannot become {target.value}")
    return f"violation {violation.id}{number} is {violation.status}; {allowed}"


def approve_violation(
    session: Session,
    *,
    violation_id: int,
    officer: str,
    corrected_plate: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Challan:
    """An officer confirms the violation (correcting the plate if the camera misread it) and the
    challan is issued at once. Refused, with nothing written, unless the violation is pending, its
    evidence files are intact and the fine schedule has an amount for it."""
    settings = settings or get_settings()
    now = now or utcnow()
    officer = _required(officer, "officer")
    violation = get_violation(session, violation_id=violation_id, for_update=True)
    _check(violation, Status.APPROVED)
    plate = normalize_plate(corrected_plate) if corrected_plate else violation.plate_text
    if not plate:
        raise InputError(f"violation {violation.id} has no plate read; give the plate with --plate")
    if not violation.evidence:
        raise EvidenceError(f"violation {violation.id} has no evidence files; a challan needs pictures")
    evidence_files.require_intact(violation.evidence, root=settings.evidence_dir)
    fine = fine_for(session, violation=violation, plate=plate, settings=settings)

    if plate != violation.plate_text:
        violation.corrected_plate = plate
        log_change(
            session,
            actor=officer,
            action="correct_plate",
            entity="violations",
            entity_id=violation.id,
            changes={"plate": [violation.plate_text, plate]},
            at=now,
        )
    _transition(
        session, violation, Status.APPROVED, actor=officer, at=now, reviewed_by=officer, reviewed_at=now
    )
    challan = _issue(
        session, violation=violation, plate=plate, fine=fine, officer=officer, settings=settings, now=now
    )
    _transition(session, violation, Status.ISSUED, actor=officer, at=now, changes={"number": challan.number})
    return challan


def _issue(session, *, violation, plate, fine, officer, settings, now) -> Challan:
    issued_on = today(settings, now)
    # The notice names the officer as their account names them today (rank, name, badge); an
    # approval from no account (records made by library callers) names the username alone.
    account = get_officer(session, username=officer)
    challan = Challan(
        violation_id=violation.id,
        number=challan_number(settings.number_prefix, issued_on.year, violation.id),
        psid=payment_reference(settings.psid_prefix, issued_on, violation.id),
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=settings.payment_days),
        fine_pkr=fine.amount_pkr,
        late_fine_pkr=fine.late_amount_pkr,
        fine_schedule=fine.schedule.id,
        fine_class=fine.vehicle_class,
        plate=plate,
        officer=officer,
        officer_name=account.full_name if account else None,
        officer_rank=account.rank if account else None,
        officer_badge=account.badge_number if account else None,
        issued_at=now,
    )
    session.add(challan)
    session.flush()
    log_change(
        session,
        actor=officer,
        action="issue",
        entity="challans",
        entity_id=challan.id,
        at=now,
        changes={
            "number": challan.number,
            "psid": challan.psid,
            "fine_pkr": challan.fine_pkr,
            "fine_schedule": challan.fine_schedule,
            "plate": plate,
            "due_on": challan.due_on.isoformat(),
            **({"late_fine_pkr": challan.late_fine_pkr} if challan.late_fine_pkr else {}),
            **({"officer_badge": challan.officer_badge} if challan.officer_badge else {}),
        },
    )
    return challan


# An unambiguous alphabet (no 0/O, 1/I/L, 5/S...) for the random part of a challan number, so that
# numbers in verification links cannot be enumerated from record ids.
NUMBER_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def challan_number(prefix: str, year: int, violation_id: int) -> str:
    suffix = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(4))
    return f"{prefix}-{year}-{violation_id:06d}-{suffix}"


def payment_reference(prefix: str, issued_on: date, violation_id: int) -> str:
    """A PSID-like 18-digit number: department code, issue date, record id, Luhn check digit."""
    body = f"{prefix}{issued_on:%y%m%d}{violation_id:07d}"
    return body + str(luhn_digit(body))


def luhn_digit(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def reject_violation(
    session: Session, *, violation_id: int, officer: str, reason: str, now: datetime | None = None
) -> Violation:
    now = now or utcnow()
    officer, reason = _required(officer, "officer"), _required(reason, "reason")
    violation = get_violation(session, violation_id=violation_id, for_update=True)
    _transition(
        session,
        violation,
        Status.REJECTED,
        actor=officer,
        at=now,
        reason=reason,
        reviewed_by=officer,
        reviewed_at=now,
        rejection_reason=reason,
    )
    return violation


def amount_due(challan: Challan, settings: Settings, now: datetime | None = None) -> int:
    """What paying the challan takes today: the fine until the due date, the late amount after it
    where the schedule in force on the offence day set one."""
    if challan.late_fine_pkr is not None and today(settings, now) > challan.due_on:
        return challan.late_fine_pkr
    return challan.fine_pkr


def record_payment(
    session: Session,
    *,
    number: str,
    reference: str,
    actor: str = "epay",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Payment:
    """The challan was paid in full against its PSID (`amount_due` on the day); `reference` is the
    bank's transaction id, one payment whatever its letter case."""
    settings = settings or get_settings()
    now = now or utcnow()
    reference = normalize_reference(reference)
    challan = get_challan(session, number=number, for_update=True)
    _refuse_recorded(session, reference)
    _check(challan.violation, Status.PAID)
    assert challan.id is not None  # a stored challan
    payment = Payment(
        challan_id=challan.id,
        reference=reference,
        amount_pkr=amount_due(challan, settings, now),
        paid_at=now,
        recorded_by=_required(actor, "actor"),
    )
    try:
        with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        # Recorded against another challan since the check above (on PostgreSQL the unique index
        # waited for that transaction to commit); the savepoint keeps this one usable to say so.
        _refuse_recorded(session, reference)
        raise
    log_change(
        session,
        actor=actor,
        action="pay",
        entity="payments",
        entity_id=payment.id,
        at=now,
        changes={"challan": challan.number, "reference": reference, "amount_pkr": payment.amount_pkr},
    )
    _transition(session, challan, Status.PAID, actor=actor, at=now)
    return payment


def _refuse_recorded(session: Session, reference: str) -> None:
    # upper() as in the unique index uq_payments_reference_nocase: rows from before it kept their case
    earlier = session.exec(select(Payment).where(func.upper(Payment.reference) == reference)).first()
    if earlier is not None:
        raise InputError(
            f"payment reference {reference} is already recorded (challan {earlier.challan.number})"
        )


def normalize_reference(text: str) -> str:
    """A bank's or ePay's transaction reference as stored: trimmed and in capitals (bank-1 is BANK-1)."""
    return _required(text, "payment reference").upper()


def today(settings: Settings, now: datetime | None = None) -> date:
    """The date where the challans are issued (a challan's issue date, the contest window's days)."""
    return offence_day(now or utcnow(), settings.timezone)


def contest_deadline(challan: Challan, settings: Settings) -> date:
    """The last day a challan can be contested (printed on the notice)."""
    return challan.issued_on + timedelta(days=settings.contest_days)


def can_contest(challan: Challan, settings: Settings, now: datetime | None = None) -> bool:
    """Whether the challan can still be contested today (by its registered owner, or the driver of a
    vehicle the registry does not know: `contest_challan`)."""
    if Status(challan.violation.status) is not Status.ISSUED:
        return False
    return today(settings, now) <= contest_deadline(challan, settings)


# A phone number as a citizen types it (0301 2345678, +92 301 2345678): what a driver must give.
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 -]{6,18}[0-9]$")
NOT_OWNER = N_("The CNIC does not match the registered owner")


def contestant(session: Session, *, challan: Challan, cnic: str, contact: str | None) -> tuple[str, str]:
    """Who may contest through the portal or the API, as (party, CNIC as stored). A plate the registry
    knows: its registered owner, by CNIC. A plate it does not know (never registered, or the camera's
    misread that an officer did not catch) has no owner to ask, so its driver may, giving their CNIC
    and a phone number to be reached on."""
    vehicle = get_vehicle(session, plate=challan.plate)
    if vehicle is not None:
        if not is_registered_owner(session, plate=challan.plate, cnic=cnic):
            raise NotOwnerError(NOT_OWNER)
        return "owner", vehicle.owner_cnic
    try:
        stored = normalize_cnic(cnic[:20])
    except InputError:
        raise InputError(N_("Give the driver's CNIC as 12345-1234567-1")) from None
    if not PHONE_PATTERN.match((contact or "").strip()):
        raise InputError(
            f"{challan.plate} is not in the vehicle registry: the driver contests with a phone number"
        )
    return "driver", stored


def contest_challan(
    session: Session,
    *,
    number: str,
    reason: str,
    cnic: str | None,
    contact: str | None = None,
    actor: str = "citizen",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Challan:
    """Record a contest of an issued, unpaid challan, refused after its contest deadline.

    `cnic` (and `contact`, a phone or e-mail to reply to) come from a citizen contesting through the
    portal or the API: the registered owner of a plate the registry knows, or the driver of one it
    does not, with a phone number (`contestant`); both are recorded on the contest. `cnic` is None
    where an officer records a contest received by post or e-mail (`anpr challan contest`), who has
    checked who sent it. The deadline holds for both."""
    settings = settings or get_settings()
    now = now or utcnow()
    reason, actor = _required(reason, "reason"), _required(actor, "actor")
    challan = get_challan(session, number=number, for_update=True)
    party, stored = (
        contestant(session, challan=challan, cnic=cnic, contact=contact) if cnic is not None else (None, None)
    )
    deadline = contest_deadline(challan, settings)
    if today(settings, now) > deadline:
        raise TransitionError(f"The contest window closed on {deadline:%d %b %Y}")
    _transition(
        session,
        challan,
        Status.CONTESTED,
        actor=actor,
        at=now,
        reason=reason,
        changes={"contest_party": party} if party else None,
        contested_at=now,
        contest_reason=reason,
        contest_party=party,
        contest_cnic=stored,
        contest_contact=((contact or "").strip() or None) if party else None,
    )
    return challan


def uphold_challan(session: Session, *, number: str, officer: str, reason: str, now=None) -> Challan:
    """The contest is turned down: the challan stands and is still to be paid."""
    return _decide(session, number=number, officer=officer, reason=reason, outcome=Status.UPHELD, now=now)


def cancel_challan(session: Session, *, number: str, officer: str, reason: str, now=None) -> Challan:
    """The contest succeeds: the challan is cancelled (kept on record, never deleted)."""
    return _decide(session, number=number, officer=officer, reason=reason, outcome=Status.CANCELLED, now=now)


def _decide(session, *, number, officer, reason, outcome: Status, now) -> Challan:
    now = now or utcnow()
    officer, reason = _required(officer, "officer"), _required(reason, "reason")
    challan = get_challan(session, number=number, for_update=True)
    _transition(
        session,
        challan,
        outcome,
        actor=officer,
        at=now,
        reason=reason,
        decided_by=officer,
        decided_at=now,
        decision_reason=reason,
    )
    return challan
