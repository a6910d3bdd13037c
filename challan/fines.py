"""Fine schedules: versioned YAML (challan/config/fines-punjab.yaml) validated by Pydantic. A violation
is fined by the schedule in force on the day of the offence; an amount the schedule does not give is an
error (FineError), never a guess. So that every violation the engine raises can be priced, loading a
schedule checks that each rule on by default (challan.rules.DEFAULT_CODES) has an amount for every
vehicle class in the schedule in force today and in any that starts later."""

from __future__ import annotations

import contextlib
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
    wording_urdu: str | None = None
    # Another code whose amounts this one is fined by: the same offence in law, found another way
    # (AVERAGE_SPEED is over-speeding measured over a section). Schedules then price only that code.
    fined_as: str | None = None


class LatePayment(_Strict):
    """What is due after a challan's due date: its fine and a surcharge, a share of the fine or a sum."""

    surcharge_percent: PositiveInt | None = None
    surcharge_pkr: PositiveInt | None = None
    source: str  # where the law sets it

    @model_validator(mode="after")
    def _one_surcharge(self) -> LatePayment:
        if (self.surcharge_percent is None) == (self.surcharge_pkr is None):
            raise ValueError("give one of surcharge_percent and surcharge_pkr")
        return self

    def amount_after_due(self, fine_pkr: int) -> int:
        if self.surcharge_percent is not None:
            return fine_pkr + (fine_pkr * self.surcharge_percent + 50) // 100  # whole rupees, half up
        assert self.surcharge_pkr is not None
        return fine_pkr + self.surcharge_pkr


class Schedule(_Strict):
    id: str
    title: str
    law: str
    effective_from: date | None  # None: in force before every dated schedule (start date unknown)
    source: str
    fines: dict[str, dict[str, PositiveInt]]
    late_payment: LatePayment | None = None  # None: the same amount is due after the due date


# What a step of the payment guide may name: the challan's PSID, number and the amount due.
STEP_FIELDS = frozenset({"psid", "number", "amount"})


class PaymentChannel(_Strict):
    name: str
    urdu: str | None = None
    steps: list[str] = Field(min_length=1)
    steps_urdu: list[str] | None = None  # the same steps in Urdu, one for one

    @model_validator(mode="after")
    def _known_fields(self) -> PaymentChannel:
        for step in (*self.steps, *(self.steps_urdu or ())):
            named = {field for _, field, _, _ in string.Formatter().parse(step) if field is not None}
            if named - STEP_FIELDS:
                raise ValueError(
                    f"step '{step}' names {sorted(named - STEP_FIELDS)}; known: {sorted(STEP_FIELDS)}"
                )
        if self.steps_urdu is not None and len(self.steps_urdu) != len(self.steps):
            raise ValueError(
                f"channel '{self.name}' has {len(self.steps)} steps but {len(self.steps_urdu)} in steps_urdu"
            )
        return self


class PaymentGuide(_Strict):
    """How a citizen pays a challan, channel by channel (the public challan page shows it)."""

    channels: list[PaymentChannel] = Field(min_length=1)
    after: str | None = None  # what happens once paid
    after_urdu: str | None = None

    def steps_for(
        self, *, psid: str, number: str, amount: str, urdu: bool = False
    ) -> list[tuple[PaymentChannel, list[str]]]:
        """Each channel's steps with the challan's values; `urdu`: its Urdu steps (None where it has none)."""
        values = {"psid": psid, "number": number, "amount": amount}
        return [
            (channel, [step.format_map(values) for step in steps])
            for channel in self.channels
            for steps in [(channel.steps_urdu or []) if urdu else channel.steps]
        ]


def _start(schedule: Schedule) -> date:
    """The start of a dated schedule (callers pass only schedules with an effective_from)."""
    assert schedule.effective_from is not None
    return schedule.effective_from


class FineConfig(_Strict):
    version: PositiveInt
    jurisdiction: str
    currency: Literal["PKR"]
    classes: dict[str, VehicleClass]
    # The camera's vehicle types (anpr.detect) that are not classes, and the class each is fined by
    # where the registry does not know the plate.
    camera_types: dict[str, str] = {}
    violations: dict[str, ViolationType]
    schedules: list[Schedule] = Field(min_length=1)
    payment: PaymentGuide | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FineConfig:
        for name, cls in self.classes.items():
            if cls.parent is not None and cls.parent not in self.classes:
                raise ValueError(f"class {name}: parent '{cls.parent}' is not a class")
        for kind, cls_name in self.camera_types.items():
            if cls_name not in self.classes:
                raise ValueError(f"camera_types: {kind}: '{cls_name}' is not a class")
        for code, offence in self.violations.items():
            target = self.violations.get(offence.fined_as) if offence.fined_as else None
            if offence.fined_as and (target is None or target.fined_as):
                raise ValueError(
                    f"violation {code}: fined_as '{offence.fined_as}' is not a violation fined itself"
                )
        ids = [s.id for s in self.schedules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"schedule ids repeat: {ids}")
        if sum(s.effective_from is None for s in self.schedules) > 1:
            raise ValueError("only one schedule may have no effective_from")
        for schedule in self.schedules:
            for code, amounts in schedule.fines.items():
                if code not in self.violations:
                    raise ValueError(f"schedule {schedule.id}: violation '{code}' is not under violations")
                fined_as = self.violations[code].fined_as
                if fined_as:
                    raise ValueError(f"schedule {schedule.id}: {code} is fined as {fined_as}; price that")
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

    def fined_classes(self) -> list[str]:
        """The classes a vehicle is fined by: all but those other classes name as their parent. A
        class with subclasses (`large`) is a heading whose amounts its subclasses inherit; the law
        prices some offences only by subclass (engine size), so the registry should hold the subclass."""
        parents = {cls.parent for cls in self.classes.values()}
        return [name for name in self.classes if name not in parents]

    def unpriced(self, codes: Iterable[str], day: date) -> list[tuple[str, str, str]]:
        """(schedule id, code, class) for every fined class that a schedule in force on `day`, or
        starting after it, gives no amount for under one of `codes`."""
        return [
            (schedule.id, code, cls)
            for schedule in self._in_force_from(day)
            for code in codes
            for cls in self.fined_classes()
            if self._amount(schedule, code, cls) is None
        ]

    def _in_force_from(self, day: date) -> Iterator[Schedule]:
        with contextlib.suppress(FineError):  # none in force yet: every schedule starts later
            yield self.schedule_on(day)
        yield from (s for s in self.schedules if s.effective_from and s.effective_from > day)

    def _amount(self, schedule: Schedule, code: str, vehicle_class: str) -> int | None:
        """The schedule's amount for the class, or else its nearest parent's; None if neither has one."""
        amounts = schedule.fines.get(code, {})
        cls: str | None = vehicle_class
        while cls is not None:
            if cls in amounts:
                return amounts[cls]
            cls = self.classes[cls].parent
        return None

    def violation(self, code: str) -> ViolationType:
        try:
            return self.violations[code]
        except KeyError:
            raise FineError(
                f"violation code '{code}' is not in the fine schedule (known: {', '.join(self.violations)})"
            ) from None

    def fine_for(self, *, code: str, vehicle_class: str, day: date) -> Fine:
        """The fine for `code` by `vehicle_class` (a class, or a camera type of `camera_types`) under
        the schedule in force on `day`."""
        priced = self.violation(code).fined_as or code
        vehicle_class = self.camera_types.get(vehicle_class, vehicle_class)
        if vehicle_class not in self.classes:
            raise FineError(
                f"vehicle class '{vehicle_class}' is not in the fine schedule "
                f"(classes: {', '.join(self.classes)})"
            )
        schedule = self.schedule_on(day)
        amount = self._amount(schedule, priced, vehicle_class)
        if amount is not None:
            return Fine(amount_pkr=amount, code=code, vehicle_class=vehicle_class, schedule=schedule)
        since = schedule.effective_from.isoformat() if schedule.effective_from else "its start"
        raise FineError(
            f"fine schedule {schedule.id} (in force on {day.isoformat()}, from {since}) has no "
            f"amount for {priced} by class '{vehicle_class}'"
        )


@dataclass(frozen=True)
class Fine:
    amount_pkr: int
    code: str
    vehicle_class: str
    schedule: Schedule

    @property
    def late_amount_pkr(self) -> int | None:
        """What is due after the due date, where the schedule sets a late payment; else None."""
        late = self.schedule.late_payment
        return late.amount_after_due(self.amount_pkr) if late else None


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
        config = FineConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise ConfigError(f"fine schedule {path}: {where}: {first['msg']}") from None
    require_priced(config, path)
    return config


def require_priced(config: FineConfig, path: str, today: date | None = None) -> None:
    """ConfigError (one line) unless every rule on by default is priced for every fined class from
    `today` (Pakistan time) on: a violation it raised could otherwise never be approved."""
    from challan.rules import DEFAULT_CODES

    gaps = config.unpriced(DEFAULT_CODES, today or offence_day(datetime.now(UTC)))
    if gaps:
        schedule, code, cls = gaps[0]
        more = f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else ""
        raise ConfigError(
            f"fine schedule {path}: {schedule} has no amount for {code} by class '{cls}'{more}, a rule the"
            " engine runs by default: add the amount, or switch the rule off by default (challan.rules)"
        )
