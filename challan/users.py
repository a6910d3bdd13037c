"""Officer accounts for the portal (challan.models.Officer): a username, a role (officer or admin)
and an argon2 password hash. Creating or disabling an account writes an entry in the records' audit
log in the same transaction."""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from anpr.errors import InputError
from challan.audit import log_change
from challan.errors import NotFoundError
from challan.models import Officer, Role

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


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH:
        raise InputError(f"password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long")
    return password


def get_officer(session: Session, *, username: str) -> Officer | None:
    return session.exec(select(Officer).where(Officer.username == username.strip().lower())).first()


def list_officers(session: Session) -> list[Officer]:
    return list(session.exec(select(Officer).order_by(Officer.username)))


def add_officer(session: Session, *, username: str, password: str, role: Role | str, actor: str) -> Officer:
    """A new account (InputError if the name is taken or the password too short); flushed, not committed."""
    username = normalize_username(username)
    try:
        role = Role(role)
    except ValueError:
        raise InputError(f"role '{role}' is not one of {', '.join(r.value for r in Role)}") from None
    if get_officer(session, username=username) is not None:
        raise InputError(f"officer '{username}' already exists")
    officer = Officer(username=username, role=role.value, password_hash=hasher.hash(check_password(password)))
    session.add(officer)
    session.flush()
    log_change(
        session,
        actor=actor,
        action="create",
        entity="officers",
        entity_id=officer.id,
        changes={"username": username, "role": role.value},
    )
    session.flush()
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


__all__ = [
    "Officer",
    "Role",
    "add_officer",
    "authenticate",
    "get_officer",
    "list_officers",
    "set_active",
]
