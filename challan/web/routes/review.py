"""The officer's review queue: pending violations oldest first, each with its evidence frames, plate
crop and read candidates side by side; approve (as read, or as a candidate or typed correction) or
reject with a reason in one or two clicks. Every action is a CSRF-checked form that redirects back.
The queue may be narrowed to a site, a violation and a range of read confidence (query parameters)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from anpr.errors import AnprError
from challan import crud, lifecycle
from challan.fines import load_fines
from challan.models import EvidenceFile
from challan.places import load_places
from challan.web import views
from challan.web.deps import CsrfChecked, MaybeOfficer, PageOfficer, RecordId, SessionDep, SettingsDep
from challan.web.queries import (
    ANY_PENDING,
    QueueFilter,
    count_pending,
    pending_queue,
    pending_sites,
    recorded_site_names,
)

router = APIRouter(prefix="/officer", include_in_schema=False)

REJECT_REASONS = (
    "Plate unreadable in the evidence",
    "No violation visible in the evidence",
    "Emergency or exempt vehicle",
    "Duplicate of another record",
    "Camera or signal fault",
)
DONE_MESSAGES = {
    "approved": "Approved: challan {n} issued.",
    "rejected": "Violation {n} rejected.",
    "upheld": "Contest turned down: challan {n} upheld.",
    "cancelled": "Contest accepted: challan {n} cancelled.",
}


def done_message(done: str | None, n: str | None) -> str | None:
    if done not in DONE_MESSAGES or not n or len(n) > 32 or not n.replace("-", "").isalnum():
        return None
    return DONE_MESSAGES[done].format(n=n)


@router.get("")
def officer_home() -> Response:
    return RedirectResponse("/officer/review", status_code=303)


PERCENT = r"^\d{0,3}$"
Percent = Annotated[str | None, Query(max_length=3, pattern=PERCENT)]  # a form's empty field is ""


def queue_filter(site: str | None, violation: str | None, min_conf: str | None, max_conf: str | None):
    """The queue's filter from its form; an empty field is any, percentages beyond 0-100 are clamped."""

    def share(percent: str | None) -> float | None:
        return min(int(percent), 100) / 100 if percent else None

    return QueueFilter(
        site=site or None,
        code=violation or None,
        min_confidence=share(min_conf),
        max_confidence=share(max_conf),
    )


def filter_params(wanted: QueueFilter) -> dict[str, str]:
    """The filter as the query parameters that give it back (for the pager and the form)."""
    params = {"site": wanted.site, "violation": wanted.code}
    for name, value in (("min_conf", wanted.min_confidence), ("max_conf", wanted.max_confidence)):
        params[name] = None if value is None else str(round(value * 100))
    return {k: v for k, v in params.items() if v is not None}


def referred_filter(request: Request) -> QueueFilter:
    """The filter of the queue a review form was sent from (its Referer, which the portal's
    same-origin policy keeps whole), so that approving or rejecting returns to the same narrowed
    queue; any other page gives the whole queue."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.path != "/officer/review":
        return ANY_PENDING
    asked = {k: v[0] for k, v in parse_qs(referer.query).items()}
    percent = {k: v for k in ("min_conf", "max_conf") if re.fullmatch(PERCENT, v := asked.get(k, ""))}
    return queue_filter(
        asked.get("site", "")[:64],
        asked.get("violation", "")[:32],
        percent.get("min_conf"),
        percent.get("max_conf"),
    )


@router.get("/review")
def review_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Annotated[str | None, Query(max_length=20)] = None,
    n: Annotated[str | None, Query(max_length=40)] = None,
    site: Annotated[str | None, Query(max_length=64)] = None,
    violation: Annotated[str | None, Query(max_length=32)] = None,
    min_conf: Percent = None,
    max_conf: Percent = None,
) -> Response:
    wanted = queue_filter(site, violation, min_conf, max_conf)
    return _queue(
        request, session, settings, officer, page=page, wanted=wanted, message=done_message(done, n)
    )


def _queue(request, session, settings, officer, *, page=1, wanted=ANY_PENDING, **notes):
    """The queue page; `notes` are the message, the error and the status code of an answer."""
    size = settings.page_size
    violations = pending_queue(session, limit=size, offset=(page - 1) * size, wanted=wanted)
    places, recorded = load_places(), recorded_site_names(session)
    sites = sorted({*pending_sites(session), *([wanted.site] if wanted.site else [])})
    params = filter_params(wanted)
    context = {
        "officer": officer,
        "items": [views.review_item(session, v, settings) for v in violations],
        "pending": count_pending(session),
        "shown": count_pending(session, wanted) if params else None,
        "page": page,
        "page_size": size,
        "reasons": REJECT_REASONS,
        "message": notes.get("message"),
        "error": notes.get("error"),
        "filter": params,
        "next_url": "/officer/review?" + urlencode({**params, "page": page + 1}),
        "site_options": [(code, places.site_name(code, recorded.get(code))) for code in sites],
        "violation_options": [
            (code, kind.title) for code, kind in load_fines(settings.fines_path).violations.items()
        ],
    }
    return views.render(request, "review.html", context, status_code=notes.get("status_code", 200))


def _act(request, session, settings, officer, action) -> Response:
    """Run one review step; on success redirect to the queue, else show it again with the error."""
    wanted = referred_filter(request)
    try:
        done, n = action()
        session.commit()
    except AnprError as exc:
        session.rollback()
        return _queue(
            request,
            session,
            settings,
            officer,
            wanted=wanted,
            error=views.error_message(exc),
            status_code=views.http_status(exc),
        )
    query = urlencode({**filter_params(wanted), "done": done, "n": n})
    return RedirectResponse(f"/officer/review?{query}", status_code=303)


@router.post("/review/{violation_id}/approve", dependencies=[CsrfChecked])
def approve(
    violation_id: RecordId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    plate: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Approve as read, or with `plate` (a candidate or a typed correction): the challan issues."""

    def action():
        challan = lifecycle.approve_violation(
            session,
            violation_id=violation_id,
            officer=officer.username,
            corrected_plate=plate.strip() or None,
            settings=settings,
        )
        return "approved", challan.number

    return _act(request, session, settings, officer, action)


@router.post("/review/{violation_id}/reject", dependencies=[CsrfChecked])
def reject(
    violation_id: RecordId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    def action():
        lifecycle.reject_violation(
            session, violation_id=violation_id, officer=officer.username, reason=reason
        )
        return "rejected", str(violation_id)

    return _act(request, session, settings, officer, action)


@router.get("/violations/{violation_id}")
def violation_page(
    violation_id: RecordId, request: Request, session: SessionDep, settings: SettingsDep, officer: PageOfficer
) -> Response:
    """Everything on record about one violation, the owner's data and its history included."""
    violation = crud.get_violation(session, violation_id=violation_id)
    record = crud.violation_detail(session, violation=violation, settings=settings, personal=True)
    record["site_name"] = load_places().site_name(violation.site_id, record["site_name"])
    context = {
        "officer": officer,
        "v": record,
        "item": views.review_item(session, violation, settings),
        "reasons": REJECT_REASONS,
    }
    return views.render(request, "violation.html", context)


@router.get("/evidence/{evidence_id}")
def evidence(
    evidence_id: RecordId, session: SessionDep, settings: SettingsDep, officer: MaybeOfficer
) -> Response:
    """Any evidence file, pending or not, for a signed-in officer (cookie or bearer token)."""
    if officer is None:
        raise HTTPException(
            status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"}
        )
    return views.evidence_response(session.get(EvidenceFile, evidence_id), settings)
