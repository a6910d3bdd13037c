"""Contested challans for an officer to decide: uphold (the fine stands) or cancel, with a reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from anpr.errors import AnprError
from challan import lifecycle
from challan.web import views
from challan.web.deps import CsrfChecked, PageOfficer, SessionDep, SettingsDep
from challan.web.queries import contested_challans
from challan.web.routes.review import done_message

router = APIRouter(prefix="/officer/contests", include_in_schema=False)

DECISIONS = {
    "uphold": (lifecycle.uphold_challan, "upheld"),
    "cancel": (lifecycle.cancel_challan, "cancelled"),
}


@router.get("")
def contests_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    done: Annotated[str | None, Query(max_length=20)] = None,
    n: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return _page(request, session, settings, officer, message=done_message(done, n))


def _page(request, session, settings, officer, *, message=None, error=None, status_code=200) -> Response:
    challans = contested_challans(session, limit=200)
    context = {
        "officer": officer,
        "items": [(c, views.detail(session, c, settings, personal=True)) for c in challans],
        "message": message,
        "error": error,
    }
    return views.render(request, "contests.html", context, status_code=status_code)


@router.post("/{number}/{decision}", dependencies=[CsrfChecked])
def decide(
    number: str,
    decision: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if decision not in DECISIONS:
        return _page(
            request, session, settings, officer, error=f"Unknown decision '{decision[:20]}'", status_code=404
        )
    step, done = DECISIONS[decision]
    try:
        challan = step(session, number=views.challan_number(number), officer=officer.username, reason=reason)
        session.commit()
    except AnprError as exc:
        session.rollback()
        return _page(
            request,
            session,
            settings,
            officer,
            error=views.error_message(exc),
            status_code=views.http_status(exc),
        )
    return RedirectResponse(f"/officer/contests?done={done}&n={challan.number}", status_code=303)
