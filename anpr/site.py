"""A camera site: its YAML file (Pydantic, extra keys forbidden) and the CSV files it points at
(signal phases from the controller, radar readings). Every problem becomes a one-line ConfigError
that names the file, the key and what is wrong with it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from anpr.errors import ConfigError

Point = tuple[float, float]
SIGNAL_STATES = ("red", "amber", "green")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(_Strict):
    """Where the camera is (WGS 84 degrees): the hub's cloned-plate check measures between sites."""

    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class SiteInfo(_Strict):
    id: Annotated[str, Field(min_length=1)]
    name: str = ""
    location: Location | None = None
    # The plate grammar this camera's plates are read by (pk for a Pakistani site): told the region,
    # the reader does not weigh foreign shapes (a Brazilian Mercosur ABC1D23 against Pakistani
    # XHN-9020 read with its 0 as an O). auto weighs every region's; `--region` overrides it.
    plate_region: str = "auto"

    @field_validator("plate_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        from anpr.plates.formats import check_region

        return check_region(value)


class Camera(_Strict):
    start_time: datetime  # wall-clock time of frame 0; must carry its UTC offset
    fps: Annotated[float, Field(gt=0)] | None = None  # for folders of frames; files carry their own

    @field_validator("start_time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-11-20T08:00:00+05:00")
        return value


class Calibration(_Strict):
    """Four image points (pixels) and the same four points on the road (metres), same order."""

    image: tuple[Point, Point, Point, Point]
    world: tuple[Point, Point, Point, Point]

    @model_validator(mode="after")
    def _not_degenerate(self) -> Calibration:
        for name in ("image", "world"):
            if _area(getattr(self, name)) < 1e-6:
                raise ValueError(f"{name} points are collinear or repeated")
        return self


class Speed(_Strict):
    limit_kmh: Annotated[float, Field(gt=0)]
    tolerance_kmh: Annotated[float, Field(ge=0)] = 0.0
    radar: Path | None = None  # CSV time,speed_kmh[,lane]
    radar_line: Annotated[float, Field(description="world y (m) the radar measures at")] | None = None
    window_s: Annotated[float, Field(gt=0)] = 1.0  # smoothing window of the ground-plane speed
    margin_m: Annotated[float, Field(ge=0)] = 2.0  # how far outside the calibrated area points count


class Signal(_Strict):
    stop_line: tuple[Point, Point]
    phases: Path | None = None  # CSV time,state
    light_region: tuple[int, int, int, int] | None = None  # x1, y1, x2, y2 of the signal head
    red_grace_s: Annotated[float, Field(ge=0)] = 0.0


class Road(_Strict):
    flow: Point | None = None  # lawful direction of travel in world metres, e.g. [0, -1]
    lanes: list[float] | None = None  # lane boundaries across the road (world x, metres), ascending

    @field_validator("lanes")
    @classmethod
    def _ascending(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and (
            len(value) < 2 or any(b <= a for a, b in zip(value, value[1:], strict=False))
        ):
            raise ValueError("needs at least two boundaries in ascending order")
        return value


class Section(_Strict):
    """An average-speed section that ends at this camera (challan.section): a vehicle read at
    `entry_site` and then here is fined when `distance_m` over the time between is above the limit
    plus the tolerance (the site's speed tolerance where this gives none)."""

    entry_site: Annotated[str, Field(min_length=1)]
    distance_m: Annotated[float, Field(gt=0, allow_inf_nan=False)]  # along the road, entry to here
    limit_kmh: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    tolerance_kmh: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


class SiteConfig(_Strict):
    site: SiteInfo
    camera: Camera
    calibration: Calibration
    speed: Speed
    signal: Signal | None = None
    road: Road = Road()
    section: Section | None = None  # this camera ends an average-speed section
    # This camera starts a section another's file declares: it keeps the images of every vehicle it
    # reads surely enough to fine (challan.section.sure), which a section's fine shows from both ends.
    section_entry: bool = False
    # Codes of challan.rules' registry, checked where the site meets the rules (anpr.jobs.footage);
    # None: every rule the site has data for (`available_data`).
    rules: list[Annotated[str, Field(min_length=1)]] | None = None

    @model_validator(mode="after")
    def _section_elsewhere(self) -> SiteConfig:
        if self.section is not None and self.section.entry_site == self.site.id:
            raise ValueError("section.entry_site must be another site (this is the section's exit)")
        return self

    def available_data(self) -> frozenset[str]:
        """What the site gives the rules to judge by beyond speed (challan.rules.Rule.needs)."""
        return frozenset(
            name for name, given in (("signal", self.signal), ("flow", self.road.flow)) if given is not None
        )


@dataclass(frozen=True)
class Phase:
    start_s: float  # seconds since frame 0
    state: str


@dataclass(frozen=True)
class RadarReading:
    time_s: float
    speed_kmh: float
    lane: int | None = None


@dataclass(frozen=True)
class Site:
    """The validated site file plus its loaded data files."""

    config: SiteConfig
    path: Path
    phases: tuple[Phase, ...] | None = None
    radar: tuple[RadarReading, ...] | None = None

    @property
    def id(self) -> str:
        return self.config.site.id

    @property
    def start_time(self) -> datetime:
        return self.config.camera.start_time


def load_site(path: str | Path) -> Site:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: site file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (site, camera, calibration, speed, signal)")
    try:
        config = SiteConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_first_error(exc)}") from None
    base = path.parent
    start = config.camera.start_time
    signal, speed = config.signal, config.speed
    phases = load_phases(base / signal.phases, start) if signal and signal.phases else None
    radar = load_radar(base / speed.radar, start) if speed.radar else None
    return Site(config=config, path=path, phases=phases, radar=radar)


def load_phases(path: Path, start: datetime) -> tuple[Phase, ...]:
    """Rows `time,state`; time in seconds since frame 0 or an ISO 8601 timestamp; sorted on return."""
    phases = []
    for line, row in _rows(path, ("time", "state")):
        state = row["state"].strip().lower()
        if state not in SIGNAL_STATES:
            raise ConfigError(f"{path}:{line}: state '{row['state']}' is not one of red, amber, green")
        phases.append(Phase(_seconds(row["time"], start, path, line), state))
    if not phases:
        raise ConfigError(f"{path}: no phases (expected rows of time,state)")
    return tuple(sorted(phases, key=lambda p: p.start_s))


def load_radar(path: Path, start: datetime) -> tuple[RadarReading, ...]:
    """Rows `time,speed_kmh[,lane]`."""
    readings = []
    for line, row in _rows(path, ("time", "speed_kmh")):
        try:
            speed = float(row["speed_kmh"])
            lane = int(row["lane"]) if (row.get("lane") or "").strip() else None
        except ValueError:
            raise ConfigError(f"{path}:{line}: speed_kmh and lane must be numbers") from None
        if speed < 0:
            raise ConfigError(f"{path}:{line}: speed_kmh must not be negative")
        readings.append(RadarReading(_seconds(row["time"], start, path, line), speed, lane))
    return tuple(sorted(readings, key=lambda r: r.time_s))


def _rows(path: Path, required: tuple[str, ...]):
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(
                f"{path}: missing column(s) {', '.join(missing)} (header needs {','.join(required)})"
            )
        for row in reader:
            if any((value or "").strip() for value in row.values()):
                yield reader.line_num, row


def _seconds(text: str, start: datetime, path: Path, line: int) -> float:
    text = (text or "").strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{path}:{line}: time '{text}' is neither seconds nor an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=start.tzinfo)
    return (moment - start).total_seconds()


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = list(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing" and loc and isinstance(item := loc[-1], int):
        loc.pop()
        message = f"too few items (item {item + 1} is missing)"
    elif error["type"] == "missing":
        message = "required key is missing"
    key = ".".join(str(part) for part in loc) or "(top level)"
    more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
    return f"key '{key}': {message}{more}"


def _area(points) -> float:
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2
