"""Every ANPR_* environment variable, read in one place: `environment()` returns them as one typed
object, a field per variable (`database_url` is ANPR_DATABASE_URL: see `variable`). The records'
and the portal's settings (challan.settings, challan.web.settings) are built from it; nothing else
reads ANPR_* variables. An unset or empty variable keeps the field's default; a malformed one
(ANPR_PAYMENT_DAYS=x) is a one-line ConfigError naming the variable.

The test suite's own variables (ANPR_TEST_POSTGRES_URL, ANPR_TEST_REDIS_URL, ANPR_TEST_AMQP_URL,
ANPR_BENCH_POSTGRES_URL, ANPR_SCREENSHOTS) are read by the tests, not here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from anpr.errors import ConfigError

PREFIX = "ANPR_"


class Environment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Records (challan.settings)
    database_url: str | None = None  # default: sqlite:///anpr.db in the working folder
    public_url: str | None = None  # where the portal is reached; the QR code on every PDF points there
    fines: Path | None = None  # fine schedule YAML (default: challan/config/fines-punjab.yaml)
    evidence_dir: Path | None = None  # relative evidence paths are resolved against it
    payment_days: int | None = None
    contest_days: int | None = None
    contest_email: str | None = None
    # Portal (challan.web.settings)
    secret_key: str | None = None
    session_hours: float | None = None
    session_idle_minutes: float | None = None
    lookups_per_minute: int | None = None
    logins_per_minute: int | None = None
    secure_cookies: bool | None = None
    redis_url: str | None = None  # shared rate-limit counters
    # Batch workers (anpr.jobs.workers)
    broker_url: str | None = None
    result_url: str | None = None
    queue: str | None = None
    broker_visibility_s: int = Field(default=6 * 3600, gt=0)
    # The hub (anpr.jobs.lookout): alerts are also POSTed here as they are raised (challan.webhook)
    alert_webhook: str | None = None
    # Hours the sightings and events of vehicles that raised nothing are kept (challan.retention)
    sighting_retention: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    # anpr watch's camera health files, read by anpr cameras status and the officers' cameras page
    watch_state: Path | None = None
    # Models, dev sets, training, diagnostics
    models_dir: Path | None = None  # default: models/ in the project
    # The vehicle detector's weights in video (anpr.process.video_detector): int8 is 1.5x faster and
    # read one car fewer of 12 on the validation road clip (docs/notes/int8-detectors.md)
    video_detector: Literal["float32", "int8"] = "float32"
    datasets: Path | None = None  # default: ../shared/datasets beside the project
    train_dir: Path = Path("/tmp/anpr-train-ocr")
    debug: bool = False  # tracebacks for unexpected errors


def variable(field: str) -> str:
    """The environment variable behind a field: ANPR_ and the field's name in capitals."""
    return PREFIX + field.upper()


def environment(environ: Mapping[str, str] | None = None) -> Environment:
    """The ANPR_* variables of `environ` (default os.environ) as they are now: read afresh, since a
    command may set one before it starts a server and tests set them per test."""
    environ = os.environ if environ is None else environ
    values = {
        field: environ[variable(field)] for field in Environment.model_fields if environ.get(variable(field))
    }
    try:
        return Environment(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        raise ConfigError(f"{variable(field) if field else 'an ANPR_* variable'}: {error['msg']}") from None
