"""Presentation shared by the pages and the JSON API: records turned into the API's schemas, the
Jinja2 environment, evidence files as responses, errors as status codes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from sqlmodel import Session

from anpr.errors import AnprError, InputError
from anpr.plates import parse as parse_plate
from anpr.types import SHOWN_YEAR_SHARE, is_uncertain
from challan import crud, i18n, lifecycle
from challan import evidence as evidence_files
from challan.crud import RecordsBusyError
from challan.errors import EvidenceError, NotFoundError, NotOwnerError, TransitionError
from challan.fines import load_fines
from challan.models import Challan, EvidenceFile, Status, Violation
from challan.pdf import measurements
from challan.places import load_places
from challan.web import queries, schemas
from challan.web.queries import ChallanRow
from challan.web.security import CSRF_FIELD, evidence_mac
from challan.web.settings import PortalSettings

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LANG_COOKIE = "lang"
# The pages a citizen sees, in English or Urdu; the officers' pages are English.
CITIZEN_PAGES = frozenset(
    {"home.html", "plate.html", "owner.html", "challan.html", "verify.html", "error.html"}
)
log = logging.getLogger("challan.web")
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
STATUS_FOR_ERROR = [
    (RecordsBusyError, 503),
    (NotOwnerError, 403),
    (NotFoundError, 404),
    (TransitionError, 409),
    (EvidenceError, 409),
    (InputError, 422),
    (AnprError, 409),  # fine schedule and other configuration gaps: the request cannot be met as is
]


# What a response says of an EvidenceError, to citizens and officers alike: the error's own message
# names the file's place on the server's disk, which is logged instead.
EVIDENCE_REFUSED = (
    "The evidence failed its integrity check: a file is missing, changed or unusable, so it is not"
    " shown and nothing was changed."
)


def http_status(exc: AnprError) -> int:
    return next(code for kind, code in STATUS_FOR_ERROR if isinstance(exc, kind))


def error_message(exc: AnprError) -> str:
    """What a response may say of a records error: its message, but never where a file is kept."""
    if isinstance(exc, EvidenceError):
        log.warning("evidence refused: %s", exc)
        return EVIDENCE_REFUSED
    return str(exc)


def challan_number(number: str) -> str:
    """The number as stored (upper case), or a 404 for anything that cannot be one."""
    if len(number) > 32 or not schemas.NUMBER_PATTERN.match(number):
        raise NotFoundError(f"no challan numbered {number[:40]}")
    return number.upper()


@dataclass(frozen=True)
class PlateWanted:
    """A plate as a citizen typed it, to look up: the registration (series + number, as the records
    key a plate) and, where the Pakistani grammar reads a registration year in what was typed
    (LEH-07 5789), that year; the text as typed is looked up too, in case it is a plate of its own."""

    plate: str
    typed: str
    year: str | None = None

    @property
    def plates(self) -> tuple[str, ...]:
        return (self.plate,) if self.plate == self.typed else (self.plate, self.typed)


def plate_query(text: str) -> PlateWanted:
    """What to look up for a typed plate; InputError where it cannot be one."""
    text = text[:40]
    typed = crud.normalize_plate(text)
    reading = parse_plate(text, region="pk")
    if reading is None or reading.year is None:
        return PlateWanted(plate=typed, typed=typed)
    return PlateWanted(plate=reading.text, typed=typed, year=reading.year)


@dataclass(frozen=True)
class OwnerChallans:
    cnic: str
    plates: list[str]  # the vehicles registered to the CNIC
    challans: list[schemas.ChallanSummary]


def owner_challans(session: Session, settings: PortalSettings, *, plate: str, cnic: str) -> OwnerChallans:
    """Every challan of the vehicles registered to `cnic`, for their owner: as for the owner's details,
    the CNIC must be the registered owner's of the plate given (NotOwnerError, 403, otherwise)."""
    wanted = plate_query(plate)
    if not any(crud.is_registered_owner(session, plate=p, cnic=cnic) for p in wanted.plates):
        raise NotOwnerError(i18n.N_("The CNIC does not match the registered owner of this vehicle"))
    stored = crud.normalize_cnic(cnic)
    rows = queries.challans_for_owner(session, cnic=stored)
    return OwnerChallans(stored, queries.plates_of_owner(session, cnic=stored), summaries(rows, settings))


# --- templates -------------------------------------------------------------------------------------


def build_templates(settings: PortalSettings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    zone = ZoneInfo(settings.timezone)
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    # The page's language is the context's `lang` (render picks it): the citizen's pages are marked
    # for translation, the officers' are English (challan.i18n).
    env.install_gettext_callables(  # type: ignore[attr-defined]
        pass_context(lambda ctx, message: i18n.gettext_for(ctx.get("lang", i18n.DEFAULT))(message)),
        pass_context(
            lambda ctx, one, many, n: i18n.translations(ctx.get("lang", i18n.DEFAULT)).ngettext(one, many, n)
        ),
        newstyle=True,
    )
    env.filters["pkr"] = pass_context(lambda ctx, value: i18n.amount(value, ctx.get("lang", i18n.DEFAULT)))
    env.filters["when"] = pass_context(
        lambda ctx, moment: local_time(moment, zone, ctx.get("lang", i18n.DEFAULT))
    )
    env.filters["day"] = pass_context(lambda ctx, value: i18n.day(value, ctx.get("lang", i18n.DEFAULT)))
    # A message made at run time (an error, a word from the records) translated where the catalogue
    # has it, as plain text: escaped when shown, unlike _() whose result is markup.
    env.filters["t"] = pass_context(
        lambda ctx, value, words=None: i18n.words(value, ctx.get("lang", i18n.DEFAULT), words)
    )
    env.globals["Markup"] = Markup
    env.globals["in_lang"] = pass_context(
        lambda ctx, items: [m.text(ctx.get("lang", i18n.DEFAULT)) for m in items]
    )
    env.globals["STATUSES"] = i18n.STATUSES
    env.globals["EVIDENCE_KINDS"] = i18n.EVIDENCE_KINDS
    env.globals["EVIDENCE_STATES"] = i18n.EVIDENCE_STATES
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    env.filters["percent"] = lambda value: f"{float(value):.0%}"
    env.globals["authority"] = settings.authority
    env.globals["authority_in"] = {"en": settings.authority, "ur": settings.authority_urdu}
    env.globals["csrf_field"] = CSRF_FIELD
    env.globals["is_uncertain"] = is_uncertain
    env.globals["shown_year_share"] = SHOWN_YEAR_SHARE
    return templates


def local_time(moment: datetime | str | None, zone: ZoneInfo, lang: str = i18n.DEFAULT) -> str:
    """A moment (or an ISO string from a JSON record) as the local wall-clock time."""
    if not moment:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return i18n.moment(moment, zone, lang)


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> Response:
    app = request.app
    state = request.scope.get("state", {})
    cookie = state.get("csrf_cookie")
    requested = request.query_params.get("lang")
    lang = i18n.DEFAULT
    if name in CITIZEN_PAGES:
        lang = i18n.pick(requested, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    context = {
        "csrf_token": app.state.tokens.csrf_form_token(cookie) if cookie else "",
        "officer": context.get("officer") if context else None,
        "lang": lang,
        "dir": i18n.direction(lang),
        "authority": app.state.templates.env.globals["authority_in"].get(lang)
        or app.state.templates.env.globals["authority"],
        "other_lang": next(other for other in i18n.LANGUAGES if other != lang),
        # a page switches in place; an error, or a page answering a form (POST), on the look-up page
        # (an error page is the same whatever address was refused: no oracle for challan numbers)
        "lang_url": lambda to: (
            str(request.url.include_query_params(lang=to))
            if request.method == "GET" and name != "error.html"
            else f"/?lang={to}"
        ),
        **(context or {}),
    }
    response = app.state.templates.TemplateResponse(request, name, context, status_code=status_code)
    if requested == lang:  # the toggle: remembered for the citizen's next pages (not a secret)
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


# --- records as API objects ---------------------------------------------------------------------------


def summaries(rows: list[ChallanRow], settings: PortalSettings) -> list[schemas.ChallanSummary]:
    kinds = load_fines(settings.fines_path).violations
    return [summary(row, settings, kinds) for row in rows]


def summary(row: ChallanRow, settings: PortalSettings, kinds: dict | None = None):
    if kinds is None:
        kinds = load_fines(settings.fines_path).violations
    kind = kinds.get(row.code)
    return schemas.ChallanSummary(
        number=row.number,
        plate=row.plate,
        violation=row.code,
        violation_title=kind.title if kind else None,
        violation_urdu=kind.urdu if kind else None,
        site=row.site_id,
        site_name=load_places().site_name(row.site_id, row.site_name),
        occurred_at=row.occurred_at,
        issued_at=row.issued_at,
        issued_on=row.issued_on,
        due_date=row.due_on,
        fine_pkr=row.fine_pkr,
        status=row.status,
        url=f"/challans/{row.number}",
        pdf_url=f"/challans/{row.number}.pdf",
        verify_url=settings.verify_url(row.number),
    )


def row_for(challan: Challan) -> ChallanRow:
    v = challan.violation
    return ChallanRow(
        number=challan.number,
        plate=challan.plate,
        issued_at=challan.issued_at,
        issued_on=challan.issued_on,
        due_on=challan.due_on,
        fine_pkr=challan.fine_pkr,
        status=v.status,
        code=v.code,
        site_id=v.site_id,
        site_name=v.site.name if v.site else None,
        occurred_at=v.occurred_at,
    )


def evidence_items(
    violation: Violation, settings: PortalSettings, url: Callable[[int], str]
) -> list[schemas.EvidenceItem]:
    checks = evidence_files.check(violation.evidence, root=settings.evidence_dir)
    return [
        schemas.EvidenceItem(
            id=item.id, kind=item.kind, sha256=item.sha256, status=c.status, url=url(item.id)
        )
        for item, c in zip(violation.evidence, checks, strict=True)
        if item.id is not None
    ]


def public_evidence_url(settings: PortalSettings, number: str, evidence_id: int) -> str:
    """An issued challan's evidence file, for anyone holding the link (challan page, API, notice)."""
    return (
        f"/challans/{number}/evidence/{evidence_id}/{evidence_mac(settings.secret_key, number, evidence_id)}"
    )


def owner_of(session: Session, challan: Challan) -> schemas.Owner | None:
    vehicle = crud.get_vehicle(session, plate=challan.plate)
    if vehicle is None:
        return None
    return schemas.Owner(name=vehicle.owner_name, cnic=vehicle.owner_cnic, address=vehicle.owner_address)


def detail(
    session: Session, challan: Challan, settings: PortalSettings, *, personal: bool
) -> schemas.ChallanDetail:
    violation = challan.violation
    base = summary(row_for(challan), settings).model_dump()
    return schemas.ChallanDetail(
        **base,
        psid=challan.psid,
        plate_read=violation.plate_text,
        vehicle_class=challan.fine_class,
        measurements=[schemas.Measurement(label=k, value=v) for k, v in measurements(violation)],
        evidence=evidence_items(
            violation, settings, lambda i: public_evidence_url(settings, challan.number, i)
        ),
        contest_until=lifecycle.contest_deadline(challan, settings),
        can_contest=lifecycle.can_contest(challan, settings),
        hearing=load_places().hearing(violation.site_id).where,
        contest=contest_of(challan, personal=personal),
        owner=owner_of(session, challan) if personal else None,
        late_fine_pkr=challan.late_fine_pkr,
        **payment_terms(challan, settings),
    )


PAYABLE = (Status.ISSUED, Status.UPHELD)


def payment_terms(challan: Challan, settings: PortalSettings) -> dict:
    """What the challan's page and API say of paying it: the amount due today and how to pay it while
    it is to be paid, the payment once made."""
    if Status(challan.violation.status) not in PAYABLE:
        return {"amount_due_pkr": None, "how_to_pay": [], "payment": payment_of(challan)}
    due = lifecycle.amount_due(challan, settings)
    guide = load_fines(settings.fines_path).payment
    psid, number = challan.psid, challan.number
    steps = guide.steps_for(psid=psid, number=number, amount=f"PKR {due:,}") if guide else []
    in_urdu = i18n.amount(due, "ur")
    urdu = guide.steps_for(psid=psid, number=number, amount=in_urdu, urdu=True) if guide else []
    return {
        "amount_due_pkr": due,
        "how_to_pay": [
            schemas.PaymentChannel(name=c.name, urdu=c.urdu, steps=lines, steps_urdu=lines_urdu)
            for (c, lines), (_, lines_urdu) in zip(steps, urdu, strict=True)
        ],
        "payment": None,
    }


def payment_after(settings: PortalSettings, lang: str = i18n.DEFAULT) -> str | None:
    """What the payment guide says happens once a challan is paid (in Urdu where it says so)."""
    guide = load_fines(settings.fines_path).payment
    if guide is None:
        return None
    return (guide.after_urdu or guide.after) if lang == "ur" else guide.after


def payment_of(challan: Challan) -> schemas.PaymentMade | None:
    """The payment of a paid challan (the last recorded, should there be more)."""
    if not challan.payments:
        return None
    paid = max(challan.payments, key=lambda p: p.paid_at)
    return schemas.PaymentMade(paid_at=paid.paid_at, reference=paid.reference, amount_pkr=paid.amount_pkr)


def contest_of(challan: Challan, *, personal: bool) -> schemas.Contest | None:
    if challan.contested_at is None:
        return None
    if challan.decided_at is None:
        status = "awaiting decision"
    else:
        status = "cancelled" if challan.violation.status == Status.CANCELLED else "upheld"
    return schemas.Contest(
        status=status,
        contested_at=challan.contested_at,
        contested_by=challan.contest_party,
        decided_at=challan.decided_at,
        decision_reason=challan.decision_reason if personal else None,
    )


def review_item(session: Session, violation: Violation, settings: PortalSettings) -> schemas.ReviewItem:
    [public] = crud.to_public(session, violations=[violation], settings=settings)
    candidates = [c for c in violation.plate_candidates if isinstance(c, dict)]
    check, registered = crud.check_read(session, violation)
    return schemas.ReviewItem(
        id=violation.id,
        plate_read=violation.plate_text,
        plate_year=violation.plate_year,
        plate_confidence=violation.plate_confidence,
        year_candidates=[schemas.YearRead(**c) for c in crud.year_candidates(violation)],
        **check._asdict(),
        candidates=[
            schemas.Candidate(**c, registered_class=getattr(registered.get(c["text"]), "vehicle_class", None))
            for c in candidates
        ],
        violation=violation.code,
        violation_title=public.violation_title,
        vehicle_type=violation.vehicle_type,
        site=violation.site_id,
        site_name=load_places().site_name(violation.site_id, public.site_name),
        occurred_at=violation.occurred_at,
        fine_pkr=public.fine_pkr,
        measurements=[schemas.Measurement(label=k, value=v) for k, v in measurements(violation)],
        evidence=evidence_items(violation, settings, lambda i: f"/officer/evidence/{i}"),
    )


# --- files ------------------------------------------------------------------------------------------


def evidence_response(item: EvidenceFile | None, settings: PortalSettings) -> Response:
    """The file's bytes after checking its SHA-256; the name on record only picks the media type.
    A file whose content changed is never served (409)."""
    if item is None:
        raise HTTPException(status_code=404, detail="No such evidence file")
    data = evidence_files.read_verified(item, root=settings.evidence_dir)
    suffix = "".join(ch for ch in Path(item.path).suffix.lower() if ch.isalnum() or ch == ".")[:6]
    if suffix in IMAGE_TYPES:
        return Response(
            data, media_type=IMAGE_TYPES[suffix], headers={"Cache-Control": "private, max-age=3600"}
        )
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{item.kind}-{item.sha256[:12]}{suffix}"'},
    )


def evidence_of(violation: Violation, evidence_id: int) -> EvidenceFile | None:
    return next((e for e in violation.evidence if e.id == evidence_id), None)
