"""The portal's one Settings class: the records' settings (challan.settings) plus what only the web
application needs, read from the environment once by `PortalSettings.from_env()`."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field

from challan.settings import ENVIRONMENT, Settings, from_environment

WEB_ENVIRONMENT = {
    "secret_key": "secret_key",
    "session_hours": "session_hours",
    "session_idle_minutes": "session_idle_minutes",
    "lookups_per_minute": "lookups_per_minute",
    "logins_per_minute": "logins_per_minute",
    "secure_cookies": "secure_cookies",
    "redis_url": "redis_url",
    "watch_state": "watch_state",
    "alert_webhook": "alert_webhook",
}


class PortalSettings(Settings):
    # Signs API tokens, CSRF tokens and evidence links. Unset: a random key per process (tokens end
    # on restart); `anpr serve` sets one for all its workers.
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32), min_length=16)
    # An officer's session (kept in the database) ends after this long, or once idle this long.
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)  # challan.users.SESSIONS_KEPT
    session_idle_minutes: float = Field(default=30.0, gt=0)
    # Per client address, on the public look-ups (plate, challan, verify, PDF); 0 turns it off.
    lookups_per_minute: int = Field(default=60, ge=0)
    logins_per_minute: int = Field(default=10, ge=0)
    # Where the rate-limit counters are shared by every worker (redis://host:6379/0); unset: each
    # worker counts in its own memory.
    redis_url: str | None = None
    # Cookies marked Secure and HSTS sent: set when the portal is served over HTTPS.
    secure_cookies: bool = False
    page_size: int = Field(default=25, ge=1, le=200)
    # Where `anpr watch` on this machine writes each camera's health (its --out/state by default)
    watch_state: Path = Path("out/watch/state")
    # Alerts raised by ingested events are also POSTed here (challan.webhook); unset: none are
    alert_webhook: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PortalSettings:
        return cls(**from_environment(ENVIRONMENT | WEB_ENVIRONMENT, environ))
