"""One Settings object for the records side, read from the environment once (`get_settings()`).
Tests build their own `Settings(...)` and pass it where a function takes `settings=`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from anpr.settings import environment

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_FINES = PACKAGE_DIR / "config" / "fines-punjab.yaml"

# The field of anpr.settings.Environment (an ANPR_* variable) behind each setting; unset ones keep
# the default.
ENVIRONMENT = {
    "database_url": "database_url",
    "public_url": "public_url",
    "fines_path": "fines",
    "evidence_dir": "evidence_dir",
    "payment_days": "payment_days",
    "contest_days": "contest_days",
    "contest_email": "contest_email",
    "sighting_retention_hours": "sighting_retention",
}


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = "sqlite:///anpr.db"
    # The portal serves /verify/{number} here; the QR code on every PDF points at it.
    public_url: str = "http://127.0.0.1:8000"
    fines_path: Path = DEFAULT_FINES
    # Relative evidence paths are resolved against this folder (the pipeline's output root).
    evidence_dir: Path = Path(".")
    timezone: str = "Asia/Karachi"
    authority: str = "Punjab Safe Cities Authority"
    authority_urdu: str = "پنجاب سیف سٹیز اتھارٹی"
    # Challan numbers read PB-2026-000042-K7QX: prefix, year of issue, record id, random check.
    number_prefix: str = "PB"
    # PSID-like payment references: this department code + issue date + record id + Luhn digit.
    psid_prefix: str = "3201"
    payment_days: int = Field(default=14, ge=1)
    contest_days: int = Field(default=7, ge=1)  # PSCA's window in 2018 (DESIGN.md)
    contest_email: str | None = None  # printed on the notice when set
    payment_channels: str = "ePay Punjab, through banks and mobile wallets"
    # Sightings and events of vehicles with no violation and no alert are purged this long after they
    # were last seen (challan.retention); 0 keeps them for ever.
    sighting_retention_hours: float = Field(default=72.0, ge=0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls(**from_environment(ENVIRONMENT, environ))

    def verify_url(self, number: str) -> str:
        return f"{self.public_url.rstrip('/')}/verify/{number}"


def from_environment(fields: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict:
    """The settings named in `fields` (setting -> anpr.settings.Environment field) that are set."""
    variables = environment(environ)
    values = {name: getattr(variables, field) for name, field in fields.items()}
    return {name: value for name, value in values.items() if value is not None}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
