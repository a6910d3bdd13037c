"""The officers' dashboard (violations by site, violation, status and day, as server-rendered SVG)
and, for admins, the list of officer accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from challan import lifecycle, users
from challan.places import load_places
from challan.web import charts, views
from challan.web.deps import PageAdmin, PageOfficer, SessionDep, SettingsDep
from challan.web.queries import dashboard_counts, recorded_site_names

router = APIRouter(prefix="/officer", include_in_schema=False)

Days = Annotated[int, Query(ge=7, le=366)]


@router.get("/dashboard")
def dashboard(
    request: Request, session: SessionDep, settings: SettingsDep, officer: PageOfficer, days: Days = 30
) -> Response:
    counts = dashboard_counts(session, days=days, today=lifecycle.today(settings), timezone=settings.timezone)
    places, recorded = load_places(), recorded_site_names(session)
    by_site = [(places.site_name(code, recorded.get(code)), n) for code, n in counts.by_site]
    context = {
        "officer": officer,
        "counts": counts,
        "days": days,
        "by_site": by_site,  # the chart shortens long names; the table under it gives them whole
        "site_chart": charts.bar_chart(by_site, title="Violations by site"),
        "violation_chart": charts.bar_chart(counts.by_violation, title="Violations by type"),
        "status_chart": charts.bar_chart(counts.by_status, title="Violations by status"),
        "day_chart": charts.day_chart(counts.by_day, title=f"Violations per day, last {days} days"),
    }
    return views.render(request, "dashboard.html", context)


@router.get("/accounts")
def accounts(request: Request, session: SessionDep, officer: PageAdmin) -> Response:
    return views.render(
        request, "accounts.html", {"officer": officer, "accounts": users.list_officers(session)}
    )
