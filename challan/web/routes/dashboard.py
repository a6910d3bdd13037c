"""The officers' overview pages: the dashboard (violations by site, violation, status and day, as
server-rendered SVG, what the challans come to in rupees, and live traffic flow per site), the
list and search of issued challans and, for admins, the list of officer accounts."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from anpr.errors import InputError
from challan import lifecycle, users
from challan.fines import load_fines
from challan.models import Status
from challan.places import load_places
from challan.web import charts, views
from challan.web.deps import CsrfChecked, PageAdmin, PageOfficer, SessionDep, SettingsDep
from challan.web.queries import (
    ChallanSearch,
    dashboard_counts,
    money_counts,
    recorded_site_names,
    search_challans,
)
from challan.web.routes import flow

router = APIRouter(prefix="/officer", include_in_schema=False)

Days = Annotated[int, Query(ge=7, le=366)]
# A violation's status as the pages say it; "overdue" is a challan issued or upheld, unpaid past its due date.
STATUS_WORDS: dict[str, str] = {
    Status.PENDING: "Pending review",
    Status.APPROVED: "Approved",
    Status.ISSUED: "Issued",
    Status.PAID: "Paid",
    Status.CONTESTED: "Contested",
    Status.UPHELD: "Upheld on contest",
    Status.CANCELLED: "Cancelled on contest",
    Status.REJECTED: "Rejected",
}
ISSUED_STATUSES = (Status.ISSUED, Status.PAID, Status.CONTESTED, Status.UPHELD, Status.CANCELLED)
CHALLAN_STATUSES = {"overdue": "Overdue", **{str(s): STATUS_WORDS[s] for s in ISSUED_STATUSES}}
Text = Annotated[str | None, Query(max_length=40)]
DAY = r"^(\d{4}-\d{2}-\d{2})?$"  # a form's empty date is ""


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    days: Days = 30,
    site: flow.SiteId = None,
    interval: flow.Interval = "15m",
    hours: flow.Hours = 6,
) -> Response:
    """Violations over `days` days, and traffic flow at `site` (challan.web.routes.flow)."""
    today = lifecycle.today(settings)
    counts = dashboard_counts(session, days=days, today=today, timezone=settings.timezone)
    places, recorded = load_places(), recorded_site_names(session)
    by_site = [(places.site_name(code, recorded.get(code)), n) for code, n in counts.by_site]
    titles = violation_titles(settings)
    by_violation = [(titles.get(code, code), n) for code, n in counts.by_violation]
    by_status = [(STATUS_WORDS.get(s, s), n) for s, n in counts.by_status]
    context = {
        "officer": officer,
        "counts": counts,
        "money": money_counts(session, today=today),
        "days": days,
        "by_site": by_site,  # the charts shorten long names; the tables under them give them whole
        "by_violation": by_violation,
        "site_chart": charts.bar_chart(by_site, title="Violations by site"),
        "violation_chart": charts.bar_chart(by_violation, title="Violations by type"),
        "status_chart": charts.bar_chart(by_status, title="Violations by status"),
        "day_chart": charts.day_chart(counts.by_day, title=f"Violations per day, last {days} days"),
        "flow": flow.flow_panel(session, settings, site=site, interval=interval, hours=hours),
    }
    return views.render(request, "dashboard.html", context)


def violation_titles(settings) -> dict[str, str]:
    return {code: kind.title for code, kind in load_fines(settings.fines_path).violations.items()}


@router.get("/challans")
def issued_challans(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    plate: Text = None,
    number: Text = None,
    site: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    issued_from: Annotated[str | None, Query(alias="from", pattern=DAY)] = None,
    issued_to: Annotated[str | None, Query(alias="to", pattern=DAY)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Issued challans, latest first, searched by plate or number (any part), site, status and the day
    of issue; a page at a time."""
    if status and status not in CHALLAN_STATUSES:
        raise InputError(f"status: one of {', '.join(CHALLAN_STATUSES)}")
    wanted = ChallanSearch(
        plate=re.sub(r"[^A-Za-z0-9]", "", plate or "").upper() or None,
        number=(number or "").strip() or None,
        site=site or None,
        status=status or None,
        issued_from=_day(issued_from, "from"),
        issued_to=_day(issued_to, "to"),
    )
    size = settings.page_size
    rows, total = search_challans(
        session, wanted=wanted, today=lifecycle.today(settings), limit=size, offset=(page - 1) * size
    )
    asked = {"plate": plate, "number": number, "site": site, "status": status, "from": issued_from}
    asked = {k: v for k, v in {**asked, "to": issued_to}.items() if v}
    places, recorded = load_places(), recorded_site_names(session)
    context = {
        "officer": officer,
        "challans": views.summaries(rows, settings),
        "total": total,
        "page": page,
        "asked": asked,
        "previous_url": f"/officer/challans?{urlencode({**asked, 'page': page - 1})}" if page > 1 else None,
        "next_url": f"/officer/challans?{urlencode({**asked, 'page': page + 1})}"
        if total > page * size
        else None,
        "first": (page - 1) * size + 1,
        "site_options": sorted(
            ((code, places.site_name(code, name)) for code, name in recorded.items()), key=lambda cn: cn[1]
        ),
        "status_options": CHALLAN_STATUSES,
    }
    return views.render(request, "challans_issued.html", context)


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: {text} is not a date") from None


@router.get("/accounts")
def accounts(request: Request, session: SessionDep, officer: PageAdmin) -> Response:
    accounts = users.list_officers(session)
    signed_out = request.query_params.get("signed_out")
    message = (
        f"{signed_out} is signed out everywhere: every session and API token of the account has ended."
        if signed_out in {a.username for a in accounts}
        else None
    )
    return views.render(
        request, "accounts.html", {"officer": officer, "accounts": accounts, "message": message}
    )


@router.post("/accounts/{username}/sign-out", dependencies=[CsrfChecked])
def sign_out_account(session: SessionDep, officer: PageAdmin, username: str) -> Response:
    """An admin signs an account out everywhere (challan.users.sign_out): a lost phone, a leaked
    token; the account keeps its password."""
    target = users.sign_out(
        session, username=username, actor=f"officer:{officer.username}", reason="signed out by an admin"
    )
    session.commit()
    return RedirectResponse(
        f"/officer/accounts?{urlencode({'signed_out': target.username})}", status_code=303
    )
