"""What the JSON API accepts and returns (the OpenAPI schema is generated from these)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Challan numbers read PB-2026-000042-K7QX; anything with other characters (dots, slashes, spaces)
# is refused before it reaches a query or a file name.
NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,10}){1,4}$")
CONTACT_PATTERN = re.compile(r"^(\+?[0-9][0-9 -]{6,18}[0-9]|[^@\s<>]{1,64}@[^@\s<>]{1,100}\.[A-Za-z]{2,24})$")
CNIC_PATTERN = r"^\d{5}-?\d{7}-?\d$"
# What normalize_plate accepts, as a schema pattern: 2-12 letters and digits, spaces and dashes aside.
PLATE_PATTERN = r"^[ -]*(?:[A-Za-z0-9][ -]*){2,12}$"


# Free text (reasons) may hold line breaks and tabs but no other control characters.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500, pattern=TEXT_PATTERN)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measurement(BaseModel):
    label: str
    value: str


class EvidenceItem(BaseModel):
    id: int
    kind: str
    sha256: str
    status: str = Field(description="ok, changed (content no longer matches its SHA-256) or missing")
    url: str


class Owner(BaseModel):
    name: str
    cnic: str
    address: str | None


class ChallanSummary(BaseModel):
    number: str
    plate: str
    violation: str = Field(description="Violation code, e.g. RED_LIGHT")
    violation_title: str | None
    violation_urdu: str | None = Field(default=None, description="The violation's title in Urdu")
    site: str
    site_name: str | None
    occurred_at: datetime
    issued_at: datetime
    issued_on: date
    due_date: date
    fine_pkr: int
    status: str
    url: str
    pdf_url: str
    verify_url: str


class Contest(BaseModel):
    status: str = Field(description="awaiting decision, upheld (the challan stands) or cancelled")
    contested_at: datetime
    contested_by: str | None = Field(
        description="owner, or driver (of a vehicle not in the registry); null where an officer recorded it"
    )
    decided_at: datetime | None
    decision_reason: str | None = Field(
        default=None, description="The officer's reason: only for officers, or with the owner's CNIC"
    )


class PaymentMade(BaseModel):
    paid_at: datetime
    reference: str = Field(description="The bank's or ePay's transaction reference")
    amount_pkr: int


class PaymentChannel(BaseModel):
    name: str
    urdu: str | None
    steps: list[str] = Field(description="What to do, with the challan's PSID and the amount due in them")
    steps_urdu: list[str] = Field(default_factory=list, description="The same steps in Urdu, where given")


class ChallanDetail(ChallanSummary):
    psid: str
    late_fine_pkr: int | None = Field(
        description="What is due after the due date, where the fine schedule sets a late amount"
    )
    amount_due_pkr: int | None = Field(
        description="What paying the challan takes today; null unless it is to be paid (issued, upheld)"
    )
    how_to_pay: list[PaymentChannel] = Field(
        description="How to pay, channel by channel, while it is to be paid"
    )
    payment: PaymentMade | None = Field(description="The payment, once paid")
    plate_read: str = Field(description="The plate as the camera read it")
    vehicle_class: str
    measurements: list[Measurement]
    evidence: list[EvidenceItem]
    contest_until: date
    can_contest: bool
    hearing: str = Field(description="Where a contest of this challan is heard: office and address")
    contest: Contest | None = Field(description="The contest, once the challan is contested")
    owner: Owner | None = Field(
        description="The registered owner: only for officers, or with the owner's CNIC in X-Owner-CNIC"
    )


class Verification(BaseModel):
    genuine: bool
    number: str
    status: str
    plate: str
    violation: str
    fine_pkr: int
    issued_on: date
    due_date: date
    payment: PaymentMade | None = Field(default=None, description="The payment, once paid")
    verified_at: datetime


class ContestRequest(Strict):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=10, max_length=900, pattern=TEXT_PATTERN)
    ]
    contact: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=90, pattern=CONTACT_PATTERN.pattern)
    ] = Field(description="A phone number or e-mail address to reply to")
    cnic: Annotated[str, StringConstraints(strip_whitespace=True, pattern=CNIC_PATTERN)] = Field(
        description="The registered owner's CNIC, 12345-1234567-1; for a vehicle not in the registry, the"
        " driver's, who then gives a phone number as `contact`"
    )


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class Candidate(BaseModel):
    text: str
    confidence: float
    registered_class: str | None = Field(
        default=None, description="The vehicle registry's class for this plate; null if not registered"
    )


class YearRead(BaseModel):
    text: str = Field(description="A registration year as printed on the plate (two digits)")
    confidence: float = Field(description="Its share of the years read with the plate")


class ReviewItem(BaseModel):
    id: int
    plate_read: str
    plate_year: str | None = Field(
        default=None, description="The registration year the camera read (Punjab legacy plates)"
    )
    plate_confidence: float
    year_candidates: list[YearRead] = Field(
        default_factory=list,
        description="The years the camera read with the plate, voted year first, each with its share",
    )
    uncertain_read: bool = Field(
        description="Confidence under anpr.types.UNCERTAIN_READ, where most misreads on the held-back sets"
        " sat: check every character against the close-up"
    )
    registered_class: str | None = Field(
        default=None, description="The vehicle registry's class for the plate as read; null if not registered"
    )
    class_conflict: bool = Field(
        description="The registry's class contradicts the vehicle the camera saw (two wheels against four):"
        " the plate is likely misread"
    )
    registered_year: str | None = Field(
        default=None, description="The vehicle registry's registration year for the plate as read"
    )
    year_conflict: bool = Field(
        description="The year the camera read differs from the registry's: the year or the plate is"
        " likely misread (the challan prints the registry's year)",
    )
    candidates: list[Candidate]
    violation: str
    violation_title: str | None
    vehicle_type: str
    site: str
    site_name: str | None
    occurred_at: datetime
    fine_pkr: int | None = Field(description="The schedule's amount if approved as read")
    measurements: list[Measurement]
    evidence: list[EvidenceItem]


class ApproveRequest(Strict):
    plate: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20)] | None = (
        Field(default=None, description="The corrected plate, when the camera misread it")
    )


class ReasonRequest(Strict):
    reason: Reason


class RejectResult(BaseModel):
    id: int
    status: str
    reason: str


class Count(BaseModel):
    key: str
    count: int


class Stats(BaseModel):
    total: int
    by_site: list[Count]
    by_violation: list[Count]
    by_status: list[Count]
    by_day: list[Count]


class Problem(BaseModel):
    """An error: a sentence, or FastAPI's list of field errors when the request does not validate."""

    detail: str | list[dict[str, Any]]


PROBLEMS = {
    400: "The body cannot be parsed",
    401: "No or invalid bearer token",
    403: "Refused (not the owner's CNIC, or not an admin)",
    404: "No such record",
    409: "The record's status does not allow this, or its evidence changed",
    422: "The input is not valid",
    429: "Too many requests from this address",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error codes, all with the Problem body."""
    return {code: {"model": Problem, "description": PROBLEMS[code]} for code in codes}
