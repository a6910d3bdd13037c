"""Fine schedules: versioned YAML (challan/config/fines-punjab.yaml) validated by Pydantic. A violation
is fined by the schedule in force on the day of the offence; an amount the schedule does not give is an
error (FineError), never a guess."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from anpr.errors import ConfigError
from challan.errors import FineError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VehicleClass(_Strict):
    label: str
    parent: str | None = None


class ViolationType(_Strict):
    title: str
    urdu: str | None = None
    wording: str


class Schedule(_Strict):
    id: str
    title: str
    law: str
    effective_from: date | None  # None: in force before every dated schedule (start date unknown)
    source: str
    fines: dict[str, dict[str, PositiveInt]]


def _start(schedule: Schedule) -> date:
    """The start of a dated schedule (callers pass only schedules with an effective_from)."""
    assert schedule.effective_from is not None
    return schedule.effective_from


class FineConfig(_Strict):
    version: PositiveInt
    jurisdiction: str
    currency: Literal["PKR"]
    classes: dict[str, VehicleClass]
    violations: dict[str, ViolationType]
    schedules: list[Schedule] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> FineConfig:
        for name, cls in self.classes.items():
            if cls.parent is not None and cls.parent not in self.classes:
                raise ValueError(f"class {name}: parent '{cls.parent}' is not a class")
        ids = [s.id for s in self.schedules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"schedule ids repeat: {ids}")
        if sum(s.effective_from is None for s in self.schedules) > 1:
            raise ValueError("only one schedule may have no effective_from")
        for schedule in self.schedules:
            for code, amounts in schedule.fines.items():
                if code not in self.violations:
                    raise ValueError(f"schedule {schedule.id}: violation '{code}' is not under violations")
                for class_name in amounts:
                    if class_name not in self.classes:
                        raise ValueError(
                            f"schedule {schedule.id}, {code}: class '{class_name}' is not under classes"
                        )
        return self

    def schedule_on(self, day: date) -> Schedule:
        """The schedule in force on `day`: the latest start on or before it."""
        dated = sorted((s for s in self.schedules if s.effective_from), key=_start)
        in_force = [s for s in dated if _start(s) <= day]
        if in_force:
            return in_force[-1]
        undated = [s for s in self.schedules if s.effective_from is None]
        if undated:
            return undated[0]
        raise FineError(
            f"no fine schedule was in force on {day.isoformat()} (the first starts "
            f"{_start(dated[0]).isoformat()})"
        )

    def violation(self, code: str) -> ViolationType:
        try:
            return self.violations[code]
        except KeyError:
            raise FineError(
                f"violation code '{code}' is not in the fine schedule (known: {', '.join(self.violations)})"
            ) from None

    def fine_for(self, *, code: str, vehicle_class: str, day: date) -> Fine:
        """The fine for `code` by `vehicle_class` under the schedule in force on `day`."""
        self.violation(code)
        if vehicle_class not in self.classes:
            raise FineError(
                f"vehicle class '{vehicle_class}' is not in the fine schedule "
                f"(classes: {', '.join(self.classes)})"
            )
        schedule = self.schedule_on(day)
        amounts = schedule.fines.get(code, {})
        cls: str | None = vehicle_class
        while cls is not None:
            if cls in amounts:
                return Fine(
                    amount_pkr=amounts[cls], code=code, vehicle_class=vehicle_class, schedule=schedule
                )
            cls = self.classes[cls].parent
        since = schedule.effective_from.isoformat() if schedule.effective_from else "its start"
        raise FineError(
            f"fine schedule {schedule.id} (in force on {day.isoformat()}, from {since}) has no "
            f"amount for {code} by class '{vehicle_class}'"
        )


@dataclass(frozen=True)
class Fine:
    amount_pkr: int
    code: str
    vehicle_class: str
    schedule: Schedule


def offence_day(occurred_at: datetime, timezone: str = "Asia/Karachi") -> date:
    """The calendar day of the offence where it happened (schedules start on local days)."""
    return occurred_at.astimezone(ZoneInfo(timezone)).date()


def load_fines(path: Path | str | None = None) -> FineConfig:
    """Read and validate a fine schedule file (default: settings' ANPR_FINES or the Punjab one)."""
    if path is None:
        from challan.settings import get_settings

        path = get_settings().fines_path
    path = Path(path)
    return _load(str(path.resolve()), path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=8)
def _load(path: str, _mtime: int) -> FineConfig:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"fine schedule {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"fine schedule {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    try:
        return FineConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise ConfigError(f"fine schedule {path}: {where}: {first['msg']}") from None
