"""The public JSON API: a plate's challans, one challan, verification, contest. Rate-limited per
client address. The registered owner's data only with a bearer token or the owner's CNIC."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query

from challan import crud
from challan.models import utcnow
from challan.web import schemas, views
from challan.web.deps import LookupLimited, MaybeOfficer, SessionDep, SettingsDep
from challan.web.queries import challans_for_plates
from challan.web.routes.challans import record_contest

router = APIRouter(
    prefix="/api/v1",
    tags=["challans"],
    dependencies=[LookupLimited],
    responses=schemas.problems(400, 422, 429),
)
NOT_FOUND = schemas.problems(404)


@router.get(
    "/challans",
    response_model=list[schemas.ChallanSummary],
)
def list_challans(
    session: SessionDep,
    settings: SettingsDep,
    plate: Annotated[
        str, Query(max_length=40, pattern=schemas.PLATE_PATTERN, description="Vehicle number, e.g. LEH-5789")
    ],
):
    """The challans issued to this plate, latest first."""
    wanted = views.plate_query(plate)
    return views.summaries(challans_for_plates(session, plates=wanted.plates), settings)


@router.get("/owner/challans", response_model=list[schemas.ChallanSummary], responses=schemas.problems(403))
def list_owner_challans(
    session: SessionDep,
    settings: SettingsDep,
    plate: Annotated[
        str, Query(max_length=40, pattern=schemas.PLATE_PATTERN, description="One of the owner's vehicles")
    ],
    x_owner_cnic: Annotated[str, Header(max_length=20, description="The registered owner's CNIC")],
):
    """Every challan of the vehicles registered to the CNIC in X-Owner-CNIC, latest first: the CNIC
    must be the registered owner's of `plate` (403 otherwise)."""
    return views.owner_challans(session, settings, plate=plate, cnic=x_owner_cnic).challans


@router.get("/challans/{number}", response_model=schemas.ChallanDetail, responses=schemas.problems(403, 404))
def get_challan(
    number: str,
    session: SessionDep,
    settings: SettingsDep,
    officer: MaybeOfficer,
    x_owner_cnic: Annotated[str | None, Header(max_length=20)] = None,
):
    """One challan with its evidence; `owner` is filled for officers, or when X-Owner-CNIC is the
    registered owner's CNIC (a CNIC that does not match is refused with 403)."""
    challan = crud.get_challan(session, number=views.challan_number(number))
    personal = officer is not None
    if x_owner_cnic is not None and not personal:
        if not crud.is_registered_owner(session, plate=challan.plate, cnic=x_owner_cnic):
            raise HTTPException(status_code=403, detail="The CNIC does not match the registered owner")
        personal = True
    return views.detail(session, challan, settings, personal=personal)


@router.get("/verify/{number}", response_model=schemas.Verification, responses=NOT_FOUND)
def verify(number: str, session: SessionDep, settings: SettingsDep):
    """Is this a genuine challan, and what is its status now?"""
    challan = crud.get_challan(session, number=views.challan_number(number))
    return schemas.Verification(
        genuine=True,
        number=challan.number,
        status=challan.violation.status,
        plate=challan.plate,
        violation=challan.violation.code,
        fine_pkr=challan.fine_pkr,
        issued_on=challan.issued_on,
        due_date=challan.due_on,
        payment=views.payment_of(challan),
        verified_at=utcnow(),
    )


@router.post(
    "/challans/{number}/contest",
    response_model=schemas.ChallanDetail,
    responses=schemas.problems(403, 404, 409),
)
def contest(number: str, body: schemas.ContestRequest, session: SessionDep, settings: SettingsDep):
    """Contest an issued challan within the window, as its registered owner (CNIC)."""
    challan = crud.get_challan(session, number=views.challan_number(number))
    record_contest(session, challan, body, settings)
    return views.detail(session, challan, settings, personal=False)
