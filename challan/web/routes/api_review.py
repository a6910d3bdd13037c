"""The officer API (bearer token): the review queue, approve / reject, contests to uphold or
cancel, and the dashboard's counts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from challan import crud, lifecycle
from challan.web import schemas, views
from challan.web.deps import CurrentOfficer, RecordId, SessionDep, SettingsDep
from challan.web.queries import contested_challans, dashboard_counts, pending_queue

UNAUTHORIZED = schemas.problems(400, 401, 422)
REFUSED = schemas.problems(404, 409)

violations = APIRouter(prefix="/api/v1/violations", tags=["review"], responses=UNAUTHORIZED)
contests = APIRouter(prefix="/api/v1/contests", tags=["review"], responses=UNAUTHORIZED)
stats = APIRouter(prefix="/api/v1/stats", tags=["review"], responses=UNAUTHORIZED)

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@violations.get("/pending", response_model=list[schemas.ReviewItem])
def pending(
    session: SessionDep,
    settings: SettingsDep,
    _officer: CurrentOfficer,
    limit: Limit = 25,
    offset: Offset = 0,
):
    """Pending violations, oldest offence first, with evidence and read candidates."""
    return [
        views.review_item(session, v, settings) for v in pending_queue(session, limit=limit, offset=offset)
    ]


@violations.get("/{violation_id}", responses=REFUSED)
def violation(
    violation_id: RecordId, session: SessionDep, settings: SettingsDep, _officer: CurrentOfficer
) -> dict:
    """Everything on record about one violation (owner's data and audit history included)."""
    record = crud.get_violation(session, violation_id=violation_id)
    return crud.violation_detail(session, violation=record, settings=settings, personal=True)


@violations.post("/{violation_id}/approve", response_model=schemas.ChallanSummary, responses=REFUSED)
def approve(
    violation_id: RecordId,
    body: schemas.ApproveRequest,
    session: SessionDep,
    settings: SettingsDep,
    officer: CurrentOfficer,
):
    """Approve (optionally with a corrected plate): the challan is issued at once."""
    challan = lifecycle.approve_violation(
        session,
        violation_id=violation_id,
        officer=officer.username,
        corrected_plate=body.plate,
        settings=settings,
    )
    session.commit()
    return views.summary(views.row_for(challan), settings)


@violations.post("/{violation_id}/reject", response_model=schemas.RejectResult, responses=REFUSED)
def reject(violation_id: RecordId, body: schemas.ReasonRequest, session: SessionDep, officer: CurrentOfficer):
    record = lifecycle.reject_violation(
        session, violation_id=violation_id, officer=officer.username, reason=body.reason
    )
    session.commit()
    return schemas.RejectResult(id=record.id, status=record.status, reason=body.reason)


@contests.get("", response_model=list[schemas.ChallanDetail])
def contested(
    session: SessionDep,
    settings: SettingsDep,
    _officer: CurrentOfficer,
    limit: Limit = 50,
    offset: Offset = 0,
):
    """Contested challans awaiting a decision, longest waiting first."""
    found = contested_challans(session, limit=limit, offset=offset)
    return [views.detail(session, c, settings, personal=True) for c in found]


@contests.post("/{number}/{decision}", response_model=schemas.ChallanSummary, responses=REFUSED)
def decide(
    number: str,
    decision: Literal["uphold", "cancel"],
    body: schemas.ReasonRequest,
    session: SessionDep,
    settings: SettingsDep,
    officer: CurrentOfficer,
):
    """uphold: the contest is turned down and the fine stands; cancel: the challan is cancelled."""
    step = lifecycle.uphold_challan if decision == "uphold" else lifecycle.cancel_challan
    challan = step(session, number=views.challan_number(number), officer=officer.username, reason=body.reason)
    session.commit()
    return views.summary(views.row_for(challan), settings)


@stats.get("", response_model=schemas.Stats)
def counts(
    session: SessionDep,
    settings: SettingsDep,
    _officer: CurrentOfficer,
    days: Annotated[int, Query(ge=7, le=366)] = 30,
):
    """Violations by site, violation and status (all time), and per local day over `days` days."""
    found = dashboard_counts(session, days=days, today=lifecycle.today(settings), timezone=settings.timezone)

    def listed(pairs):
        return [schemas.Count(key=str(k), count=n) for k, n in pairs]

    return schemas.Stats(
        total=found.total,
        by_site=listed(found.by_site),
        by_violation=listed(found.by_violation),
        by_status=listed(found.by_status),
        by_day=listed((d.isoformat(), n) for d, n in found.by_day),
    )
