"""The officer's review queue: pending violations oldest first, each with its evidence frames, plate
crop and read candidates side by side; approve (as read, or as a candidate or typed correction) or
reject with a reason in one or two clicks. Every action is a CSRF-checked form that redirects back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from anpr.errors import AnprError
from challan import crud, lifecycle
from challan.models import EvidenceFile, Status
from challan.places import load_places
from challan.web import views
from challan.web.deps import CsrfChecked, MaybeOfficer, PageOfficer, RecordId, SessionDep, SettingsDep
from challan.web.queries import count_by_status, pending_queue

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


@router.get("/review")
def review_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: PageOfficer,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Annotated[str | None, Query(max_length=20)] = None,
    n: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return _queue(request, session, settings, officer, page=page, message=done_message(done, n))


def _queue(request, session, settings, officer, *, page=1, message=None, error=None, status_code=200):
    size = settings.page_size
    violations = pending_queue(session, limit=size, offset=(page - 1) * size)
    context = {
        "officer": officer,
        "items": [views.review_item(session, v, settings) for v in violations],
        "pending": count_by_status(session, Status.PENDING),
        "page": page,
        "page_size": size,
        "reasons": REJECT_REASONS,
        "message": message,
        "error": error,
    }
    return views.render(request, "review.html", context, status_code=status_code)


def _act(request, session, settings, officer, action) -> Response:
    """Run one review step; on success redirect to the queue, else show it again with the error."""
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
            error=views.error_message(exc),
            status_code=views.http_status(exc),
        )
    return RedirectResponse(f"/officer/review?done={done}&n={n}", status_code=303)


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
