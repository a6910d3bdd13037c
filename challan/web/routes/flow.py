"""Traffic flow on the officers' dashboard: for one site over the last hours, the vehicles per
interval by class (a time series) and how fast they went (a histogram), with the numbers as tables,
from the sightings (challan.flow). The dashboard renders the panel with the page; flow.js fetches it
again from /officer/dashboard/flow every REFRESH_S seconds while the tab is shown. /api/v1/flow
gives a bearer token the rows of `anpr flow --json`."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, BeforeValidator
from sqlmodel import Session, col, select

from anpr.errors import InputError
from challan.errors import NotFoundError
from challan.flow import SpeedSpread, flow, parse_interval, speed_spread
from challan.models import Sighting, utcnow
from challan.places import load_places
from challan.web import charts, schemas, views
from challan.web.deps import CurrentOfficer, PageOfficer, SessionDep, SettingsDep
from challan.web.queries import recorded_site_names
from challan.web.settings import PortalSettings

router = APIRouter(prefix="/officer", include_in_schema=False)
api = APIRouter(prefix="/api/v1/flow", tags=["flow"], responses=schemas.problems(400, 401, 422))

INTERVALS = {"5m": "5 minutes", "15m": "15 minutes", "1h": "1 hour"}
WINDOWS = {1: "1 hour", 6: "6 hours", 24: "24 hours", 168: "7 days"}
REFRESH_S = 10  # how often an open dashboard fetches the panel again
MAX_COLUMNS = 400  # intervals on one chart; more would be under 3 px a column
SERIES_W = 820  # the time series' width in px (the histogram beside it: HISTOGRAM_W)
HISTOGRAM_W = 440
LABEL_PX = 64  # room for one time label under the columns

SiteId = Annotated[str | None, Query(max_length=64)]
Interval = Annotated[str, Query(max_length=8)]  # anything challan.flow.parse_interval reads
# The API's choices, so that its schema says exactly what it takes.
ApiInterval = Literal["1m", "5m", "10m", "15m", "30m", "1h", "2h", "3h", "6h", "12h", "24h"]


def _written_time(value: object) -> object:
    """An ISO 8601 time as people write it; pydantic would also read "5" as 5 s after 1970."""
    if isinstance(value, str) and not re.match(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("give an ISO 8601 time, like 2026-12-07T08:00 (without an offset: UTC)")
    return value


Moment = Annotated[datetime | None, BeforeValidator(_written_time), Query()]
Hours = Annotated[int, Query(ge=1, le=168)]


def flow_panel(
    session: Session,
    settings: PortalSettings,
    *,
    site: str | None,
    interval: str,
    hours: int,
    now: datetime | None = None,
) -> dict:
    """What the panel shows: the site (asked for, else the one that saw a vehicle last), the
    columns from the interval `hours` back to the one in progress, the speed bands, the choices."""
    step = parse_interval(interval)
    now = now or utcnow()
    first, last = _slot(now - timedelta(hours=hours), step), _slot(now, step)
    if (last - first) / step + 1 > MAX_COLUMNS:
        raise InputError(
            f"{WINDOWS.get(hours, f'{hours} hours')} at {interval} is over {MAX_COLUMNS} intervals:"
            " choose a longer interval"
        )
    places, recorded = load_places(), recorded_site_names(session)
    if site and site not in recorded:
        raise NotFoundError(f"no site {site} in the records")
    site = site or _latest_site(session)
    until = last + step  # a camera whose clock runs ahead shows nothing beyond now
    rows = list(flow(session, interval=step, site_id=site, since=first, until=until)) if site else []
    spread = (
        speed_spread(session, site_id=site, since=first, until=until)
        if site
        else SpeedSpread([], 0, None, None)
    )
    zone = ZoneInfo(settings.timezone)
    by_class = Counter[str]()
    for row in rows:
        by_class.update(row.by_class)
    ranked = sorted(by_class.items(), key=lambda kind_n: (-kind_n[1], kind_n[0]))  # most first
    site_name = places.site_name(site, recorded.get(site)) if site else ""
    choice = {"site": site or "", "interval": interval, "hours": hours}
    return {
        **choice,
        "site_name": site_name,
        "sites": sorted(((c, places.site_name(c, n)) for c, n in recorded.items()), key=lambda cn: cn[1]),
        "intervals": {**INTERVALS, interval: INTERVALS.get(interval, interval)},
        "windows": {**WINDOWS, hours: WINDOWS.get(hours, f"{hours} hours")},
        "query": urlencode(choice),  # the dashboard's other links keep the choice
        "src": "/officer/dashboard/flow?" + urlencode(choice),
        "refresh_s": REFRESH_S,
        "rows": [(f"{r.start.astimezone(zone):%d %b %H:%M}", r) for r in reversed(rows)],  # newest first
        "vehicles": sum(by_class.values()),
        "by_class": ranked,
        "spread": spread,
        "from_local": f"{first.astimezone(zone):%d %b %Y, %H:%M %Z}",
        "at_local": f"{now.astimezone(zone):%H:%M:%S}",
        "series_chart": charts.stacked_columns(
            _columns(rows, first=first, last=last, step=step, zone=zone),
            [kind for kind, _ in ranked],
            title=f"Vehicles per {INTERVALS.get(interval, interval)} at {site_name}, by class",
            width=SERIES_W,
        )
        if rows
        else None,
        "speed_chart": _speed_chart(spread, site_name) if spread.measured else None,
    }


def _speed_chart(spread: SpeedSpread, site_name: str):
    p85 = spread.p85_kmh
    return charts.histogram(
        spread.bands,
        title=f"Speeds at {site_name}: vehicles per 10 km/h",
        mark=(p85, f"85th {p85:g}") if p85 is not None else None,
        width=HISTOGRAM_W,
    )


def _slot(moment: datetime, step: timedelta) -> datetime:
    """The start of the clock-aligned interval a moment falls in (as challan.flow counts them)."""
    seconds = step.total_seconds()
    return datetime.fromtimestamp(moment.timestamp() // seconds * seconds, UTC)


def _latest_site(session: Session) -> str | None:
    return session.exec(select(Sighting.site_id).order_by(col(Sighting.first_seen).desc()).limit(1)).first()


def _columns(
    rows, *, first: datetime, last: datetime, step: timedelta, zone: ZoneInfo
) -> list[charts.Column]:
    """Every interval from `first` to `last`, with no vehicles where no row is; a time label under
    as many columns as there is room for (with the day, over more than a day)."""
    counted = {r.start: r.by_class for r in rows}
    count = int((last - first) / step) + 1
    long = last - first > timedelta(days=1)
    every = max(1, -(-count * LABEL_PX * (1 + long) // (SERIES_W - 50)))
    columns = []
    for i in range(count):
        start = first + i * step
        local, end = start.astimezone(zone), (start + step).astimezone(zone)
        label = f"{local:%d %b %H:%M}" if long else f"{local:%H:%M}"
        columns.append(
            charts.Column(
                label if i % every == 0 else None,
                f"{local:%d %b %H:%M}\u2013{end:%H:%M}",
                counted.get(start, {}),
            )
        )
    return columns


@router.get("/dashboard/flow")
def flow_fragment(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    site: SiteId = None,
    interval: Interval = "15m",
    hours: Hours = 6,
) -> Response:
    """The dashboard's traffic-flow panel alone (HTML), as flow.js fetches it."""
    panel = flow_panel(session, settings, site=site, interval=interval, hours=hours)
    return views.render(request, "_flow.html", {"officer": officer, "flow": panel})


class FlowLine(BaseModel):
    """One site and interval, as a line of `anpr flow --json`."""

    site_id: str
    start: str
    end: str
    vehicles: int
    by_class: dict[str, int]
    mean_kmh: float | None
    p85_kmh: float | None
    per_hour: float


@api.get("", response_model=list[FlowLine])
def flow_rows(
    session: SessionDep,
    _officer: CurrentOfficer,
    site: SiteId = None,
    since: Moment = None,
    until: Moment = None,
    interval: ApiInterval = "15m",
) -> list[dict]:
    """Vehicles per site and clock-aligned interval (UTC) from `since` to before `until` (ISO 8601;
    without an offset, UTC): by class, mean and 85th-percentile speed, flow per hour."""
    step = parse_interval(interval)
    since, until = (t.replace(tzinfo=UTC) if t and t.tzinfo is None else t for t in (since, until))
    return [row.to_json() for row in flow(session, interval=step, site_id=site, since=since, until=until)]
