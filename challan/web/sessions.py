"""Officer sessions kept on the server (challan.models.OfficerSession), so that signing out ends a
session for every copy of its cookie. The cookie holds only a random id (256 bits); the table keeps
its SHA-256, the officer, the CSRF value bound at sign-in and when the session was last used. A
session is refused once revoked, once idle for longer than the settings' session_idle_minutes, once
older than session_hours, and once its officer is disabled or has a new password."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from challan.models import Officer, OfficerSession, utcnow
from challan.web.settings import PortalSettings

# last_seen_at is written at most this often per session: one write a minute, not one per request.
TOUCH_EVERY = timedelta(seconds=60)
MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class SignedIn:
    officer: Officer
    csrf: str  # the value bound into the session at sign-in (challan.web.deps.check_csrf)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, *, officer: Officer, csrf: str, now: datetime | None = None) -> str:
    """A new session for `officer` (flushed, not committed); returns the id for the cookie."""
    assert officer.id is not None  # a stored account
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        OfficerSession(
            token_hash=token_hash(token),
            officer_id=officer.id,
            password_stamp=officer.password_stamp,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return token


def resume(
    session: Session, token: str | None, settings: PortalSettings, *, now: datetime | None = None
) -> SignedIn | None:
    """The officer behind a cookie's id, if the session is still good; its last use is recorded
    (committed) at most once a minute."""
    row = _find(session, token)
    if row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    if now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        return None
    if now - row.created_at > timedelta(hours=settings.session_hours):
        return None
    officer = session.get(Officer, row.officer_id)
    if officer is None or not officer.active:
        return None
    if not hmac.compare_digest(officer.password_stamp, row.password_stamp):
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return SignedIn(officer=officer, csrf=row.csrf)


def revoke(session: Session, token: str | None, *, now: datetime | None = None) -> bool:
    """End the session behind a cookie's id (flushed, not committed); False if there is none open."""
    row = _find(session, token)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now or utcnow()
    session.flush()
    return True


def _find(session: Session, token: str | None) -> OfficerSession | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return session.exec(select(OfficerSession).where(OfficerSession.token_hash == token_hash(token))).first()
