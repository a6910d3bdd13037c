"""The notice a citizen receives: one A4 page rendered from challan/templates/challan.html by
WeasyPrint. Evidence images are re-read and checked against their SHA-256 before they are embedded,
so a page never shows a file that differs from the one the officer approved.

    with session_scope(url) as session:
        pdf_bytes = challan_pdf(session, key="PB-2026-000042-K7QX", public=True)
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlmodel import Session

from challan import crud, i18n
from challan import evidence as evidence_files
from challan.errors import EvidenceError, TransitionError
from challan.fines import load_fines
from challan.i18n import N_
from challan.lifecycle import contest_deadline
from challan.models import Challan, EvidenceFile, Status, Violation
from challan.places import load_places
from challan.settings import PACKAGE_DIR, Settings, get_settings

TEMPLATES_DIR = PACKAGE_DIR / "templates"
SCENE_KINDS = ("scene_at", "scene_after", "scene_before")
SCENE_MM = (112.0, 40.0)  # the most room the scene image has on the page: width, height
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class Picture:
    kind: str
    data_uri: str
    sha256: str
    box: tuple[float, float, float, float] | None = None  # left, top, width, height in % of the image
    width_mm: float | None = None  # printed width that keeps the image inside its space on the page


@dataclass(frozen=True)
class Notice:
    """Everything the page shows, already formatted; `owner` is None on the public copy."""

    number: str
    status: str
    issued_on: str
    due_on: str
    psid: str
    plate: str
    plate_read: str
    plate_year: str | None
    vehicle_class: str
    vehicle: str | None  # make and colour from the registry
    owner: dict | None  # name, cnic, address
    violation_code: str
    violation_title: str
    violation_urdu: str | None
    wording: str
    law: str
    schedule: str
    site: str
    occurred_at: str
    measurements: list[tuple[str, str]]
    camera_record: list[tuple[str, str]]  # the data bar: where, when, which track, what was read
    fine_pkr: int
    late_fine_pkr: int | None  # due after the due date, where the schedule sets a late amount
    officer: str  # rank and name as on the day of issue, else the username that approved it
    officer_badge: str | None
    approved_at: str
    scene: Picture | None
    plate_picture: Picture | None
    evidence: list[dict]  # kind, sha256, status
    verify_url: str
    qr_data_uri: str
    contest_by: str
    payment_channels: str
    contest_email: str | None
    authority: str
    authority_urdu: str
    public: bool = False
    notes: list[str] = field(default_factory=list)
    hearing: str = ""  # where a contest is heard (challan.places)
    urdu: dict = field(default_factory=dict)  # the values the Urdu lines print (dates, amounts, notes)


def challan_pdf(
    session: Session, *, key: str | int, public: bool = False, settings: Settings | None = None
) -> bytes:
    """The PDF for a violation id or challan number (the challan must have been issued)."""
    violation = crud.find_violation(session, key=str(key))
    return render_pdf(build_notice(session, violation=violation, public=public, settings=settings))


def registration_year(violation: Violation, challan: Challan, vehicle) -> str | None:
    """The registration year the notice prints: the registry's where it has one; else the camera's,
    but only when the officer approved the plate as the camera read it (the review card shows the
    year beside the read). A corrected plate drops the camera's year: it was read off a misread
    plate and no one checked it against the corrected registration."""
    if vehicle is not None and vehicle.registration_year:
        return vehicle.registration_year
    return violation.plate_year if challan.plate == violation.plate_text else None


def build_notice(
    session: Session, *, violation: Violation, public: bool = False, settings: Settings | None = None
) -> Notice:
    """What the page shows for an issued challan; EvidenceError if an image no longer matches its
    SHA-256, TransitionError if the violation was never issued. public=True leaves the owner out."""
    settings = settings or get_settings()
    challan = violation.challan
    if challan is None:
        raise TransitionError(
            f"violation {violation.id} is {violation.status}; only an issued challan has a notice"
        )
    fines = load_fines(settings.fines_path)
    kind = fines.violations.get(violation.code)
    schedule = next((s for s in fines.schedules if s.id == challan.fine_schedule), None)
    vehicle = crud.get_vehicle(session, plate=challan.plate)
    local = ZoneInfo(settings.timezone)
    approved_at = violation.reviewed_at or challan.issued_at
    urdu = {
        "issued_on": i18n.day(challan.issued_on, "ur"),
        "due_on": i18n.day(challan.due_on, "ur"),
        "contest_by": i18n.day(contest_deadline(challan, settings), "ur"),
        "occurred_at": i18n.moment(violation.occurred_at, local, "ur"),
        "approved_at": i18n.moment(approved_at, local, "ur"),
        "fine": i18n.amount(challan.fine_pkr, "ur"),
        "late_fine": i18n.amount(challan.late_fine_pkr, "ur"),
        "wording": kind.wording_urdu if kind and kind.wording_urdu else "",
        # each label in Urdu; a value in Urdu only where it is words (a number reads the same)
        "measurements": [(m.text("ur")[0], m.text("ur")[1] if m.worded else "") for m in measured(violation)],
        "notes": _notes(violation, "ur"),
        "channels": "، ".join(c.urdu for c in fines.payment.channels if c.urdu) if fines.payment else "",
    }
    return Notice(
        number=challan.number,
        status=violation.status,
        issued_on=_day(challan.issued_on),
        due_on=_day(challan.due_on),
        psid=challan.psid,
        plate=challan.plate,
        plate_read=violation.plate_text,
        plate_year=registration_year(violation, challan, vehicle),
        vehicle_class=fines.classes[challan.fine_class].label
        if challan.fine_class in fines.classes
        else challan.fine_class,
        vehicle=_make_and_colour(vehicle),
        owner=None if public or vehicle is None else _owner(vehicle),
        violation_code=violation.code,
        violation_title=kind.title if kind else violation.code,
        violation_urdu=kind.urdu if kind else None,
        wording=kind.wording if kind else "",
        law=schedule.law if schedule else challan.fine_schedule,
        schedule=_schedule_line(schedule, challan),
        site=_site(violation),
        occurred_at=_moment(violation.occurred_at, local),
        measurements=measurements(violation),
        camera_record=_camera_record(violation, local),
        fine_pkr=challan.fine_pkr,
        late_fine_pkr=challan.late_fine_pkr,
        officer=issuing_officer(challan),
        officer_badge=challan.officer_badge,
        approved_at=_moment(approved_at, local),
        scene=_picture(
            _first(violation.evidence, SCENE_KINDS),
            settings,
            box=violation.details.get("vehicle_box"),
            fit=SCENE_MM,
            public_of=challan if public else None,
        ),
        plate_picture=_picture(
            _first(violation.evidence, ("plate_crop",)), settings, public_of=challan if public else None
        ),
        evidence=[c.to_json() for c in evidence_files.check(violation.evidence, root=settings.evidence_dir)],
        verify_url=settings.verify_url(challan.number),
        qr_data_uri=_qr(settings.verify_url(challan.number)),
        contest_by=_day(contest_deadline(challan, settings)),
        payment_channels=settings.payment_channels,
        contest_email=settings.contest_email,
        authority=settings.authority,
        authority_urdu=settings.authority_urdu,
        public=public,
        notes=_notes(violation),
        hearing=load_places().hearing(violation.site_id).where,
        urdu=urdu,
    )


def render_html(notice: Notice) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]))
    env.filters["pkr"] = lambda amount: f"{amount:,}"
    env.globals.update(ur=_urdu, bi=_both, also=_also, bdi=_bdi, zip=zip, EVIDENCE_STATES=PRINTED_STATES)
    return env.get_template("challan.html").render(n=notice, Status=Status)


def _urdu(message: str, **values) -> Markup:
    """`message` (markup) in Urdu, its values escaped; English where the catalogue has no Urdu."""
    return Markup(i18n.gettext_for("ur")(message)) % values


def _both(message: str) -> Markup:
    """A label in English, then in Urdu (right to left), on one line where there is room."""
    return Markup('<span class="en">%s</span> <span class="ur-label" lang="ur" dir="rtl">%s</span>') % (
        message,
        i18n.gettext_for("ur")(message),
    )


def _also(urdu: str) -> Markup:
    """A value's Urdu form after its English one (nothing where there is none)."""
    return Markup(' <span class="ur-inline" lang="ur" dir="rtl">%s</span>') % urdu if urdu else Markup("")


def _bdi(text: str, css: str = "") -> Markup:
    """A left-to-right run (a number, a name in Latin letters) kept whole inside Urdu text."""
    return Markup('<bdi class="%s">%s</bdi>') % (css, text) if css else Markup("<bdi>%s</bdi>") % text


def render_pdf(notice: Notice) -> bytes:
    from weasyprint import CSS, HTML

    html = HTML(string=render_html(notice), base_url=str(TEMPLATES_DIR))
    return html.write_pdf(stylesheets=[CSS(filename=str(TEMPLATES_DIR / "challan.css"))])


# --- formatting -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One thing the camera measured: a label and a value as message ids (challan.i18n), the value's
    numbers apart, so that the notice and the portal print it in English, Urdu or both."""

    label: str
    value: str
    values: dict = field(default_factory=dict)
    worded: bool = False  # the value is words, not a quantity: the notice prints its Urdu too

    def text(self, lang: str = i18n.DEFAULT) -> tuple[str, str]:
        return i18n.translate(lang, self.label), i18n.translate(lang, self.value, **self.values)


PRINTED_STATES = {"ok": N_("intact"), "missing": N_("missing"), "changed": N_("changed")}  # challan.evidence
METHODS = {"calibrated-ground-plane": N_("calibrated ground plane"), "radar": N_("radar")}  # anpr.speed
SECTION_METHOD = "average-speed-section"  # challan.section
METHODS[SECTION_METHOD] = N_("average speed between two cameras")


def measured(violation: Violation) -> list[Measured]:
    """What the camera measured, as the notice quotes it (keys as challan.rules writes them)."""
    d = violation.details
    rows = []
    if d.get("speed_kmh") is not None:
        label = N_("Average speed") if d.get("method") == SECTION_METHOD else N_("Measured speed")
        rows.append(Measured(label, N_("%(speed)s km/h"), {"speed": f"{float(d['speed_kmh']):.1f}"}))
    if d.get("limit_kmh") is not None:
        rows.append(
            Measured(N_("Speed limit"), N_("%(speed)s km/h"), {"speed": f"{float(d['limit_kmh']):g}"})
        )
    if d.get("tolerance_kmh"):
        rows.append(
            Measured(
                N_("Tolerance allowed"), N_("%(speed)s km/h"), {"speed": f"{float(d['tolerance_kmh']):g}"}
            )
        )
    method = d.get("method") or (
        (violation.event.data or {}).get("speed_method") if violation.event else None
    )
    if method and d.get("speed_kmh") is not None:
        rows.append(
            Measured(
                N_("Speed measured by"), METHODS.get(str(method), str(method).replace("-", " ")), worded=True
            )
        )
    if d.get("method") == SECTION_METHOD and d.get("distance_m") is not None:
        rows += _section(d)
    if d.get("seconds_into_red") is not None:
        rows.append(
            Measured(
                N_("Time into red"),
                N_("%(seconds)s s after the signal turned red"),
                {"seconds": f"{float(d['seconds_into_red']):.1f}"},
                worded=True,
            )
        )
    if d.get("amber_seconds") is not None:
        rows.append(
            Measured(
                N_("Amber duration"), N_("%(seconds)s s"), {"seconds": f"{float(d['amber_seconds']):.1f}"}
            )
        )
    if d.get("direction") == "against":
        rows.append(Measured(N_("Direction of travel"), N_("against the permitted direction"), worded=True))
    return rows


def _section(d: dict) -> list[Measured]:
    """An average speed over a section (challan.section): its length, and where and when the vehicle
    entered and left it (Pakistan time)."""
    zone = ZoneInfo(get_settings().timezone)
    rows = [
        Measured(
            N_("Section"),
            N_("%(km)s km from %(entry)s to %(exit)s"),
            {
                "km": f"{float(d['distance_m']) / 1000:g}",
                "entry": d.get("entry_site_id"),
                "exit": d.get("exit_site_id"),
            },
        )
    ]
    for label, site, at in (
        (N_("Entered the section"), d.get("entry_site_id"), d.get("entry_at")),
        (N_("Left the section"), d.get("exit_site_id"), d.get("exit_at")),
    ):
        if isinstance(at, str):
            moment = datetime.fromisoformat(at).astimezone(zone)
            rows.append(
                Measured(
                    label, N_("%(time)s at %(site)s"), {"time": f"{moment:%Y-%m-%d %H:%M:%S}", "site": site}
                )
            )
    if d.get("seconds") is not None:
        rows.append(
            Measured(
                N_("Time over the section"), N_("%(seconds)s s"), {"seconds": f"{float(d['seconds']):.1f}"}
            )
        )
    return rows


def measurements(violation: Violation, lang: str = i18n.DEFAULT) -> list[tuple[str, str]]:
    """`measured` as (label, value) lines in `lang`."""
    return [m.text(lang) for m in measured(violation)]


def _camera_record(violation: Violation, zone: ZoneInfo) -> list[tuple[str, str]]:
    event = violation.event
    moment = violation.occurred_at.astimezone(zone)
    rows = [
        ("Site code", violation.site_id),
        ("Offence time", f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 100000} {moment.tzname()}"),
    ]
    if event is not None:
        seen = f"{event.first_seen.astimezone(zone):%H:%M:%S} to {event.last_seen.astimezone(zone):%H:%M:%S}"
        rows.append(("Tracked", f"track {event.track_id}, {seen}"))
    read = violation.plate_text or "none"
    rows.append(("Plate read", f"{read} ({violation.plate_confidence:.0%} confidence)"))
    return rows


def issuing_officer(challan: Challan) -> str:
    """The officer who issued the challan, as the notice names them: rank and name as their account
    read on the day of issue; the username where the account had no name (made before 0006)."""
    if not challan.officer_name:
        return challan.officer
    return " ".join(x for x in (challan.officer_rank, challan.officer_name) if x)


def _make_and_colour(vehicle) -> str | None:
    if vehicle is None:
        return None
    return ", ".join(x for x in (vehicle.make, vehicle.colour) if x) or None


def _notes(violation: Violation, lang: str = i18n.DEFAULT) -> list[str]:
    notes = []
    if violation.corrected_plate:
        notes.append(
            i18n.translate(
                lang,
                N_("Plate read by the camera as %(read)s; corrected by the reviewing officer."),
                read=violation.plate_text,
            )
        )
    return notes


def _owner(vehicle) -> dict:
    return {"name": vehicle.owner_name, "cnic": vehicle.owner_cnic, "address": vehicle.owner_address}


def _site(violation: Violation) -> str:
    """Where the offence was, as people name the place (challan.places); the site's code is in the
    camera record beside it."""
    site, places = violation.site, load_places()
    name = places.site_name(violation.site_id, site.name if site else None)
    address = places.site_address(violation.site_id, site.address if site else None)
    return f"{name}, {address}" if address and address not in name else name


def _schedule_line(schedule, challan: Challan) -> str:
    if schedule is None:
        return challan.fine_schedule
    since = f", in force from {_day(schedule.effective_from)}" if schedule.effective_from else ""
    return f"{schedule.title}{since}"


def _day(value: date) -> str:
    return value.strftime("%d %b %Y")


def _moment(value: datetime, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return f"{local:%d %b %Y, %H:%M:%S} {local.tzname()}"


def _first(items: list[EvidenceFile], kinds: tuple[str, ...]) -> EvidenceFile | None:
    for kind in kinds:
        for item in items:
            if item.kind == kind:
                return item
    return None


def _picture(
    item: EvidenceFile | None, settings: Settings, *, box=None, fit=None, public_of: Challan | None = None
) -> Picture | None:
    """The verified image as a data URI (EvidenceError if it changed), with the vehicle's box in %.
    `public_of`: the public notice's picture is the public copy the portal shows (challan.public_images:
    bystanders' plates and faces blurred, its bar saying what was decided), never the original; the
    copy marks the vehicle itself, so no box is drawn over it. PublicCopyUnavailable where no copy
    can be made here: then there is no public notice, rather than one showing the original."""
    if item is None:
        return None
    from PIL import Image

    if public_of is not None:
        from challan.public_images import PUBLIC_WIDTHS, public_image

        data, box = public_image(public_of, item, settings, max(PUBLIC_WIDTHS)).data, None
    else:
        data = evidence_files.read_verified(item, root=settings.evidence_dir)
    try:
        with Image.open(io.BytesIO(data)) as image:
            mime, (width, height) = IMAGE_TYPES.get(image.format or ""), image.size
    except OSError:
        raise EvidenceError(f"evidence {item.kind} {item.path} is not an image") from None
    if mime is None:
        raise EvidenceError(f"evidence {item.kind} {item.path} is not a JPEG or PNG image")
    percent = None
    if box and len(box) == 4:
        x1, y1, x2, y2 = (float(v) for v in box)
        percent = (100 * x1 / width, 100 * y1 / height, 100 * (x2 - x1) / width, 100 * (y2 - y1) / height)
    uri = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    width_mm = min(fit[0], fit[1] * width / height) if fit else None
    return Picture(kind=item.kind, data_uri=uri, sha256=item.sha256, box=percent, width_mm=width_mm)


def _qr(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#000", light="#fff")


__all__ = ["Notice", "Picture", "build_notice", "challan_pdf", "measurements", "render_html", "render_pdf"]
