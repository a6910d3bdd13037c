"""Citizens' pages: look up a plate, view a challan with its evidence, download its PDF, verify it
from its QR code, contest it. Personal data only to officers or with the owner's CNIC."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from anpr.errors import AnprError
from challan import crud, lifecycle
from challan.i18n import N_
from challan.pdf import challan_pdf, measured
from challan.public_images import PUBLIC_WIDTHS, PublicCopyUnavailable, is_public, public_image
from challan.web import schemas, views
from challan.web.deps import CsrfChecked, LookupLimited, MaybePageOfficer, RecordId, SessionDep, SettingsDep
from challan.web.queries import challans_for_plates
from challan.web.security import evidence_mac_valid

router = APIRouter(include_in_schema=False)

CnicField = Annotated[str, Form(max_length=20)]
CONTEST_HINTS = {
    "reason": N_("Give the reason in 10 to 900 characters."),
    "contact": N_("Give a phone number or an e-mail address for the reply."),
    "cnic": N_("Give your CNIC as 12345-1234567-1."),
}


@router.get("/")
def home(request: Request, officer: MaybePageOfficer) -> Response:
    return views.render(request, "home.html", {"officer": officer})


@router.get("/challans", dependencies=[LookupLimited])
def plate_lookup(
    request: Request, session: SessionDep, settings: SettingsDep, officer: MaybePageOfficer, plate: str = ""
) -> Response:
    if not plate.strip():
        return RedirectResponse("/", status_code=303)
    try:
        wanted = views.plate_query(plate)
    except AnprError as exc:
        context = {"officer": officer, "error": str(exc), "plate": plate[:40]}
        return views.render(request, "home.html", context, status_code=422)
    rows = views.summaries(challans_for_plates(session, plates=wanted.plates), settings)
    return views.render(request, "plate.html", {"officer": officer, "wanted": wanted, "challans": rows})


@router.post("/owner/challans", dependencies=[LookupLimited, CsrfChecked])
def owner_lookup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: MaybePageOfficer,
    plate: Annotated[str, Form(max_length=40)] = "",
    cnic: CnicField = "",
) -> Response:
    """Every challan of the vehicles registered to a CNIC, for the owner who gives it with one of
    their plates (a POST, so the CNIC stays out of addresses and logs)."""
    try:
        owned = views.owner_challans(session, settings, plate=plate, cnic=cnic)
    except AnprError as exc:
        context = {"officer": officer, "owner_error": views.error_message(exc), "owner_plate": plate[:40]}
        return views.render(request, "home.html", context, status_code=views.http_status(exc))
    return views.render(request, "owner.html", {"officer": officer, "owned": owned})


def _pdf(session, settings, number: str, *, public: bool) -> Response:
    try:
        data = challan_pdf(session, key=number, public=public, settings=settings)
    except PublicCopyUnavailable:  # the public notice shows the public copies or nothing
        raise HTTPException(
            status_code=503, detail="The notice cannot be made now; try again later."
        ) from None
    suffix = "" if public else "-full"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="challan-{number}{suffix}.pdf"'},
    )


@router.get("/challans/{number}.pdf", dependencies=[LookupLimited])
def challan_pdf_public(number: str, session: SessionDep, settings: SettingsDep, officer: MaybePageOfficer):
    """The public copy (no personal data); an officer's browser gets the full notice."""
    challan = crud.get_challan(session, number=views.challan_number(number))
    return _pdf(session, settings, challan.number, public=officer is None)


@router.post("/challans/{number}.pdf", dependencies=[LookupLimited, CsrfChecked])
def challan_pdf_owner(number: str, session: SessionDep, settings: SettingsDep, cnic: CnicField = ""):
    """The full notice for the owner: the registered owner's CNIC must be given."""
    challan = crud.get_challan(session, number=views.challan_number(number))
    if not crud.is_registered_owner(session, plate=challan.plate, cnic=cnic):
        raise HTTPException(status_code=403, detail="The CNIC does not match the registered owner")
    return _pdf(session, settings, challan.number, public=False)


def _challan_page(request, session, settings, number, *, officer, personal, status_code=200, **extra):
    challan = crud.get_challan(session, number=views.challan_number(number))
    context = {
        "officer": officer,
        "c": views.detail(session, challan, settings, personal=personal),
        "measured": measured(challan.violation),
        "payment_after": views.payment_after(settings),
        "payment_after_urdu": views.payment_after(settings, "ur"),
        "contest_email": settings.contest_email,
        **extra,
    }
    return views.render(request, "challan.html", context, status_code=status_code)


@router.get("/challans/{number}", dependencies=[LookupLimited])
def challan_page(
    number: str, request: Request, session: SessionDep, settings: SettingsDep, officer: MaybePageOfficer
):
    return _challan_page(request, session, settings, number, officer=officer, personal=officer is not None)


@router.post("/challans/{number}", dependencies=[LookupLimited, CsrfChecked])
def challan_page_owner(
    number: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: MaybePageOfficer,
    cnic: CnicField = "",
):
    """The same page with the owner's details, for a citizen who gives the matching CNIC."""
    challan = crud.get_challan(session, number=views.challan_number(number))
    if officer is None and not crud.is_registered_owner(session, plate=challan.plate, cnic=cnic):
        return _challan_page(
            request,
            session,
            settings,
            number,
            officer=officer,
            personal=False,
            status_code=403,
            cnic_error=N_("The CNIC does not match the registered owner of this vehicle."),
        )
    return _challan_page(request, session, settings, number, officer=officer, personal=True, cnic=cnic)


@router.get("/challans/{number}/evidence/{evidence_id}/{mac}", dependencies=[LookupLimited])
def challan_evidence(
    number: str,
    evidence_id: RecordId,
    mac: str,
    session: SessionDep,
    settings: SettingsDep,
    w: Annotated[int, Query(description="width: one of 640, 1280")] = max(PUBLIC_WIDTHS),
) -> Response:
    """The public copy of an evidence image of an issued challan (challan.public_images: bystanders
    blurred, the capture's data bar replaced, under 200 KB), by the link on the challan's page:
    without its MAC a number and an id open nothing, and nothing tells a wrong number from a wrong
    MAC. The original is checked against its SHA-256 first; it is served to officers only."""
    if not evidence_mac_valid(settings.secret_key, number.upper(), evidence_id, mac):
        raise HTTPException(status_code=404, detail="No such evidence file")
    challan = crud.get_challan(session, number=views.challan_number(number))
    item = views.evidence_of(challan.violation, evidence_id)
    if item is None or not is_public(item) or w not in PUBLIC_WIDTHS:
        raise HTTPException(status_code=404, detail="No such evidence file")
    try:
        copy = public_image(challan, item, settings, w)
    except PublicCopyUnavailable:
        raise HTTPException(
            status_code=503, detail="This picture cannot be shown now; try again later."
        ) from None
    return Response(copy.data, media_type=copy.media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/challans/{number}/contest", dependencies=[CsrfChecked])
def contest(
    number: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    officer: MaybePageOfficer,
    reason: Annotated[str, Form(max_length=2000)] = "",
    contact: Annotated[str, Form(max_length=200)] = "",
    cnic: CnicField = "",
):
    challan = crud.get_challan(session, number=views.challan_number(number))
    typed = {"reason": reason, "contact": contact, "cnic": cnic}
    try:
        form = schemas.ContestRequest(reason=reason, contact=contact, cnic=cnic)
        record_contest(session, challan, form, settings)
    except ValidationError as exc:
        # ContestRequest has only named fields, so an error's loc starts with the field's name
        hints = (CONTEST_HINTS[cast(str, e["loc"][0])] for e in exc.errors())
        return _refused_contest(
            request, session, settings, challan, officer, typed, 422, list(dict.fromkeys(hints))
        )
    except HTTPException as exc:
        return _refused_contest(
            request, session, settings, challan, officer, typed, exc.status_code, exc.detail
        )
    return RedirectResponse(f"/challans/{challan.number}?contested=1", status_code=303)


def _refused_contest(request, session, settings, challan, officer, typed, status_code, message) -> Response:
    """The challan page again, the refusal at its top and the form as the citizen filled it in."""
    return _challan_page(
        request,
        session,
        settings,
        challan.number,
        officer=officer,
        personal=False,
        status_code=status_code,
        contest_error=message,
        contest_form=typed,
    )


def record_contest(session, challan, form: schemas.ContestRequest, settings) -> None:
    """The citizen's contest, from the page or the API, committed; a refusal (the CNIC is not the
    owner's, a driver gave no phone, the window has closed, the challan is not open to contest) as an
    HTTPException."""
    try:
        lifecycle.contest_challan(
            session,
            number=challan.number,
            reason=form.reason,
            cnic=form.cnic,
            contact=form.contact,
            actor=f"citizen {form.contact}",
            settings=settings,
        )
    except AnprError as exc:
        session.rollback()
        raise HTTPException(status_code=views.http_status(exc), detail=views.error_message(exc)) from None
    session.commit()


@router.get("/verify")
def verify_form(number: Annotated[str, Query(max_length=40)] = "") -> Response:
    """The home page's verify form: on to the number's verification page."""
    cleaned = number.strip().upper()
    if not schemas.NUMBER_PATTERN.match(cleaned):
        raise HTTPException(status_code=404, detail=f"No challan numbered {cleaned[:40] or '(empty)'}")
    return RedirectResponse(f"/verify/{cleaned}", status_code=303)


@router.get("/verify/{number}", dependencies=[LookupLimited])
def verify_page(number: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Where the QR code on every notice points: genuine or not, and the current status."""
    try:
        challan = crud.get_challan(session, number=views.challan_number(number))
    except AnprError:
        return views.render(request, "verify.html", {"number": number[:40], "c": None}, status_code=404)
    return views.render(
        request,
        "verify.html",
        {
            "number": challan.number,
            "c": views.summary(views.row_for(challan), settings),
            "late_fine_pkr": challan.late_fine_pkr,
            "payment": views.payment_of(challan),
        },
    )
