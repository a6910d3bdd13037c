"""One Settings object for the records side, read from the environment once (`get_settings()`).
Tests build their own `Settings(...)` and pass it where a function takes `settings=`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_FINES = PACKAGE_DIR / "config" / "fines-punjab.yaml"

# Environment variable for each field; unset ones keep the default.
ENVIRONMENT = {
    "database_url": "ANPR_DATABASE_URL",
    "public_url": "ANPR_PUBLIC_URL",
    "fines_path": "ANPR_FINES",
    "evidence_dir": "ANPR_EVIDENCE_DIR",
    "payment_days": "ANPR_PAYMENT_DAYS",
    "contest_days": "ANPR_CONTEST_DAYS",
    "contest_email": "ANPR_CONTEST_EMAIL",
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

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values = {field: environ[var] for field, var in ENVIRONMENT.items() if environ.get(var)}
        return cls(**values)

    def verify_url(self, number: str) -> str:
        return f"{self.public_url.rstrip('/')}/verify/{number}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
