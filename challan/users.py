"""Officer accounts for the portal (challan.models.Officer): a username, a role (officer or admin),
an argon2 password hash, and who the officer is (name, rank, badge number), as the notices they
issue name them. Creating, editing or disabling an account writes an entry in the records' audit log
in the same transaction. Signing in (`sign_in`) backs off per account after failed attempts,
whatever address they come from. Whoever acts on the records from the command line is named by an
active account (`active_officer`), never by free text."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from anpr.errors import AnprError, InputError
from challan.audit import log_change
from challan.errors import NotFoundError
from challan.models import LoginFailure, Officer, OfficerSession, Role, utcnow

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def normalize_username(name: str) -> str:
    username = (name or "").strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InputError(
            f"username '{name}' is not 2-40 characters of a-z, 0-9, '.', '_' or '-' starting with a letter"
        )
    return username


# A badge number as printed on a warden's or officer's badge: letters, digits, '-' and '/'.
BADGE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9/-]{0,19}$")


def _text(value: str | None, what: str, longest: int) -> str:
    value = " ".join((value or "").split())
    if not 2 <= len(value) <= longest:
        raise InputError(f"{what} must be 2 to {longest} characters")
    return value


def normalize_badge(badge: str | None) -> str:
    value = (badge or "").strip().upper()
    if not value:
        raise InputError("badge number must be given")
    if not BADGE_PATTERN.match(value):
        raise InputError(f"badge number '{badge}' is not 1-20 letters, digits, '-' or '/'")
    return value


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH:
        raise InputError(f"password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long")
    return password


def get_officer(session: Session, *, username: str) -> Officer | None:
    return session.exec(select(Officer).where(Officer.username == username.strip().lower())).first()


def list_officers(session: Session) -> list[Officer]:
    return list(session.exec(select(Officer).order_by(Officer.username)))


def add_officer(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    actor: str,
    full_name: str | None = None,
    rank: str | None = None,
    badge_number: str | None = None,
) -> Officer:
    """A new account (InputError if the name or badge is taken, or the password too short); flushed,
    not committed. Name, rank and badge go together: all three, or none (`anpr officer add` asks
    for all three; accounts made without them name no one on a notice until `edit_officer`)."""
    username = normalize_username(username)
    try:
        role = Role(role)
    except ValueError:
        raise InputError(f"role '{role}' is not one of {', '.join(r.value for r in Role)}") from None
    if get_officer(session, username=username) is not None:
        raise InputError(f"officer '{username}' already exists")
    named = any(v is not None for v in (full_name, rank, badge_number))
    person = _person(session, full_name=full_name, rank=rank, badge_number=badge_number) if named else {}
    officer = Officer(
        username=username, role=role.value, password_hash=hasher.hash(check_password(password)), **person
    )
    session.add(officer)
    session.flush()
    log_change(
        session,
        actor=actor,
        action="create",
        entity="officers",
        entity_id=officer.id,
        changes={"username": username, "role": role.value, **person},
    )
    session.flush()
    return officer


def _person(session: Session, *, full_name, rank, badge_number, officer: Officer | None = None) -> dict:
    """Name, rank and badge as stored (InputError if one is missing or malformed, or the badge is
    another account's)."""
    person = {"full_name": _text(full_name, "name", 100), "rank": _text(rank, "rank", 60)}
    badge = normalize_badge(badge_number)
    holder = session.exec(select(Officer).where(Officer.badge_number == badge)).first()
    if holder is not None and holder is not officer:
        raise InputError(f"badge number {badge} is already officer '{holder.username}''s")
    return person | {"badge_number": badge}


def edit_officer(
    session: Session,
    *,
    username: str,
    actor: str,
    full_name: str | None = None,
    rank: str | None = None,
    badge_number: str | None = None,
) -> Officer:
    """Change an account's name, rank or badge (those given; the others stay), logged; notices
    already issued keep the officer as named on the day of issue."""
    officer = get_officer(session, username=username)
    if officer is None:
        raise NotFoundError(f"no officer named '{username}'")
    wanted = _person(
        session,
        full_name=full_name if full_name is not None else officer.full_name,
        rank=rank if rank is not None else officer.rank,
        badge_number=badge_number if badge_number is not None else officer.badge_number,
        officer=officer,
    )
    changes = {k: [getattr(officer, k), v] for k, v in wanted.items() if getattr(officer, k) != v}
    if changes:
        for key, value in wanted.items():
            setattr(officer, key, value)
        log_change(
            session, actor=actor, action="update", entity="officers", entity_id=officer.id, changes=changes
        )
        session.flush()
    return officer


def active_officer(session: Session, *, username: str) -> Officer:
    """The active account `username` names, for a command that records who acted: InputError (one
    line) for a name that is no account, or a disabled one."""
    officer = get_officer(session, username=username) if username.strip() else None
    if officer is None:
        raise InputError(
            f"--officer '{' '.join(username.split())[:40]}' is not an officer account: give a username from"
            " 'anpr officer list'"
        )
    if not officer.active:
        raise InputError(f"--officer '{officer.username}' is a disabled account")
    return officer


def set_active(session: Session, *, username: str, active: bool, actor: str) -> Officer:
    officer = get_officer(session, username=username)
    if officer is None:
        raise NotFoundError(f"no officer named '{username}'")
    if officer.active != active:
        log_change(
            session,
            actor=actor,
            action="enable" if active else "disable",
            entity="officers",
            entity_id=officer.id,
            changes={"active": [officer.active, active]},
        )
        officer.active = active
        session.flush()
    return officer


def sign_out(session: Session, *, username: str, actor: str, reason: str | None = None) -> Officer:
    """End every session and bearer token of the account, now, its password kept: a lost phone, a
    token pasted where it should not be, an officer moved to other duties for a while. The account
    stays usable: signing in again gives new ones."""
    officer = get_officer(session, username=username)
    if officer is None:
        raise NotFoundError(f"no officer named '{username[:64]}'")
    log_change(
        session,
        actor=actor,
        action="sign-out",
        entity="officers",
        entity_id=officer.id,
        changes={"sign_outs": [officer.sign_outs, officer.sign_outs + 1]},
        reason=reason,
    )
    officer.sign_outs += 1
    session.add(officer)
    session.flush()
    return officer


# A real hash to verify against when the username is unknown, so that a failed login takes as long
# whether or not the account exists.
@cache
def _dummy_hash() -> str:
    return hasher.hash("no such officer, no such password")


def authenticate(session: Session, *, username: str, password: str) -> Officer | None:
    """The active officer with this name and password, else None."""
    officer = get_officer(session, username=username) if USERNAME_PATTERN.match(username.lower()) else None
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        return None
    try:
        hasher.verify(officer.password_hash if officer else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if officer is None or not officer.active:
        return None
    if hasher.check_needs_rehash(officer.password_hash):
        officer.password_hash = hasher.hash(password)
        session.flush()
    return officer


# --- per-account back-off -----------------------------------------------------------------------------

# From the 5th failed sign-in of a name (since its last success, over the last day) the name is refused
# for a minute, doubling with each further failure up to an hour. Refused attempts are not counted (nor
# is the password checked), so the back-off cannot be pushed ever longer while it runs.
BACKOFF_AFTER = 5
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_LONGEST = timedelta(hours=1)
FAILURES_KEPT = timedelta(days=1)


class LoginBackoff(AnprError):
    """Too many failed sign-ins of this name: refused without checking the password."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many failed sign-ins for this account; try again in {retry_after} s")
        self.retry_after = retry_after


# Signed-in sessions are kept this long after they began (who was signed in, and when), then deleted;
# session_hours above it would be cut short here, so the portal's settings refuse it.
SESSIONS_KEPT = timedelta(days=30)


def housekeep(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Delete what no check reads any more: sessions begun over SESSIONS_KEPT ago (long ended: none
    lasts that long) and failed sign-ins over FAILURES_KEPT ago (the back-off looks back that far).
    The caller commits. Returns how many of each went."""
    now = now or utcnow()
    sessions = session.exec(
        delete(OfficerSession).where(col(OfficerSession.created_at) < now - SESSIONS_KEPT)
    ).rowcount
    failures = session.exec(delete(LoginFailure).where(col(LoginFailure.at) < now - FAILURES_KEPT)).rowcount
    return {"sessions": sessions or 0, "login_failures": failures or 0}


def _attempted(username: str) -> str:
    """The name as tried, the way accounts are named (unknown names back off too: nothing tells an
    attacker which names exist)."""
    return (username or "").strip().lower()[:100]


def login_backoff(session: Session, *, username: str, now: datetime | None = None) -> int | None:
    """Whole seconds this name is refused for, or None if it may try."""
    now = now or utcnow()
    query = (
        select(LoginFailure.at)
        .where(LoginFailure.username == _attempted(username), col(LoginFailure.at) > now - FAILURES_KEPT)
        .order_by(col(LoginFailure.at))
    )
    failures = list(session.exec(query))
    if len(failures) < BACKOFF_AFTER:
        return None
    wait = min(BACKOFF_FIRST * 2 ** (len(failures) - BACKOFF_AFTER), BACKOFF_LONGEST)
    left = (failures[-1] + wait - now).total_seconds()
    return math.ceil(left) if left > 0 else None


def sign_in(session: Session, *, username: str, password: str, now: datetime | None = None) -> Officer | None:
    """`authenticate`, with the back-off: LoginBackoff while the name is refused; a failure is
    recorded, a success forgets the name's failures (flushed either way: the caller commits both)."""
    now = now or utcnow()
    wait = login_backoff(session, username=username, now=now)
    if wait is not None:
        raise LoginBackoff(wait)
    officer = authenticate(session, username=username, password=password)
    name = _attempted(username)
    if officer is None:
        session.add(LoginFailure(username=name, at=now))
    else:
        session.exec(delete(LoginFailure).where(col(LoginFailure.username) == name))
    session.flush()
    return officer


__all__ = [
    "LoginBackoff",
    "Officer",
    "Role",
    "active_officer",
    "add_officer",
    "authenticate",
    "edit_officer",
    "get_officer",
    "housekeep",
    "list_officers",
    "login_backoff",
    "set_active",
    "sign_in",
]
