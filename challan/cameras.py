"""Cameras the hub does not run: private cameras and other vendors' systems that post their vehicle
events to POST /api/v1/ingest/events (challan.ingest). Each is registered with its site and the
site's rules, and gets one API key. The key is shown once; the records keep only its SHA-256 (a key
is 256 random bits, so a fast hash is enough: there is nothing to guess that a slow one would
protect), so a copy of the records opens nothing. Revoking a key refuses its next post; registering
the camera again issues a new key. Keyword-only functions taking the session; the caller commits."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from anpr.errors import InputError
from challan.audit import log_change
from challan.errors import NotFoundError
from challan.models import Camera, Site, utcnow
from challan.rules import SectionRules, SiteRules

KEY_PREFIX = "anpr_"  # tells a leaked key apart in logs and secret scanners
CAMERA_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_EVENTS_PER_MINUTE = 600  # a four-lane road at capacity passes about 130 vehicles a minute


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def rules_json(rules: SiteRules) -> dict:
    return {
        "site_id": rules.site_id,
        "limit_kmh": rules.limit_kmh,
        "tolerance_kmh": rules.tolerance_kmh,
        "red_grace_s": rules.red_grace_s,
        "enabled": sorted(rules.enabled),
        "section": asdict(rules.section) if rules.section else None,
        "plate_region": rules.plate_region,
    }


def rules_of(camera: Camera) -> SiteRules:
    """The rules the hub judges this camera's events by, as registered."""
    stored = camera.rules or {}
    section = stored.get("section")
    return SiteRules(
        site_id=camera.site_id,
        limit_kmh=stored.get("limit_kmh"),
        tolerance_kmh=stored.get("tolerance_kmh", 0.0),
        red_grace_s=stored.get("red_grace_s", 0.0),
        enabled=frozenset(stored.get("enabled", ())),
        section=SectionRules(**section) if section else None,
        plate_region=stored.get("plate_region"),
    )


@dataclass(frozen=True)
class CameraPublic:
    """One line of `anpr camera list --json`: never the key, nor its hash."""

    id: str
    site_id: str
    description: str | None
    status: str  # active | revoked
    events_per_minute: int | None
    rules: list[str]
    registered_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, camera: Camera) -> CameraPublic:
        return cls(
            id=camera.id,
            site_id=camera.site_id,
            description=camera.description,
            status="revoked" if camera.revoked_at else "active",
            events_per_minute=camera.events_per_minute,
            rules=sorted(rules_of(camera).enabled),
            registered_at=camera.created_at,
            revoked_at=camera.revoked_at,
        )

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "site_id": self.site_id,
            "description": self.description,
            "status": self.status,
            "events_per_minute": self.events_per_minute,
            "rules": self.rules,
            "registered_at": self.registered_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def register_camera(
    session: Session,
    *,
    camera_id: str,
    rules: SiteRules,
    site_name: str,
    actor: str,
    events_per_minute: int = DEFAULT_EVENTS_PER_MINUTE,
    description: str | None = None,
) -> str:
    """Register a camera at `rules.site_id` (the site is recorded if new) and return its API key, the
    only time it exists outside the caller. A camera whose key is active is refused; a revoked one
    is registered again with a new key (and the rules given now)."""
    if not CAMERA_ID_PATTERN.match(camera_id):
        raise InputError(f"camera id '{camera_id[:80]}' must be 1-64 letters, digits, '.', '_' or '-'")
    if events_per_minute < 1:
        raise InputError("events per minute must be at least 1")
    if session.get(Site, rules.site_id) is None:
        session.add(Site(id=rules.site_id, name=site_name or rules.site_id))
        log_change(
            session,
            actor=actor,
            action="create",
            entity="sites",
            entity_id=rules.site_id,
            changes={"name": site_name or rules.site_id},
            reason="a camera registered at a new site",
        )
        session.flush()
    camera = session.get(Camera, camera_id, with_for_update=True)
    if camera is not None and camera.key_hash and camera.revoked_at is None:
        raise InputError(f"camera {camera_id} already has an active key (revoke it first for a new one)")
    key = new_key()
    fields: dict[str, Any] = {
        "site_id": rules.site_id,
        "key_hash": hash_key(key),
        "rules": rules_json(rules),
        "events_per_minute": events_per_minute,
        "description": description,
        "revoked_at": None,
    }
    if camera is None:
        camera = Camera(id=camera_id, **fields)
    else:
        for name, value in fields.items():
            setattr(camera, name, value)
    session.add(camera)
    log_change(
        session,
        actor=actor,
        action="register",
        entity="cameras",
        entity_id=camera_id,
        # The key's hash is left out too: the audit log is read more widely than the cameras table.
        changes={k: v for k, v in fields.items() if k not in ("key_hash", "revoked_at")},
    )
    session.flush()
    return key


def list_cameras(session: Session) -> list[CameraPublic]:
    cameras = session.exec(select(Camera).where(col(Camera.key_hash).is_not(None)).order_by(col(Camera.id)))
    return [CameraPublic.of(camera) for camera in cameras]


def revoke_camera(session: Session, *, camera_id: str, actor: str, reason: str | None = None) -> Camera:
    """Refuse the camera's key from now on (its events already recorded stay)."""
    camera = session.get(Camera, camera_id, with_for_update=True)
    if camera is None or camera.key_hash is None:
        raise NotFoundError(f"no camera {camera_id[:80]} registered to post events")
    if camera.revoked_at is None:
        camera.revoked_at = utcnow()
        session.add(camera)
        log_change(
            session,
            actor=actor,
            action="revoke",
            entity="cameras",
            entity_id=camera_id,
            changes={"revoked_at": camera.revoked_at.isoformat()},
            reason=reason,
        )
        session.flush()
    return camera


def camera_for_key(session: Session, key: str) -> Camera | None:
    """The camera this key was issued to (revoked or not), or None for a key never issued."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    return session.exec(select(Camera).where(Camera.key_hash == hash_key(key))).first()
