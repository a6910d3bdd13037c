"""`anpr demo`'s run after the footage is processed: the recorded violations, and one of them approved
by a demo officer with its challan PDF written. A real officer looks at the evidence first
(`anpr serve` -> /officer/review); the demo picks the read it is most sure of. The demo officer is an
account like any other (the notice names the officer who issued it), made on the demo's first run."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from anpr.errors import InputError
from anpr.weights import PROJECT_ROOT
from challan.models import Status

SAMPLES = PROJECT_ROOT / "sample_videos"
DEFAULT_CLIP = "regal-chowk"
DEMO_OFFICER = "demo.officer"
DEMO_PERSON = {"full_name": "Demo Officer", "rank": "Inspector", "badge_number": "ETC-000"}


@dataclass(frozen=True)
class DemoChallan:
    violation_id: int
    number: str
    pdf: Path
    approved_now: bool  # False on a re-run: the challan was already issued


def sample_clip() -> tuple[Path, Path]:
    """The first sample clip with its site file (sample_videos/NAME.yaml beside NAME.mp4)."""
    for site in sorted(SAMPLES.glob("*.yaml"), key=lambda path: path.stem != DEFAULT_CLIP):
        video = site.with_suffix(".mp4")
        if video.is_file():
            return video, site
    raise InputError(f"no sample clip in {SAMPLES}; run 'make samples' to generate them")


def violation_to_approve(records: list, confidence: Mapping[int | None, float | None]):
    """The violation the demo officer approves: one already issued a challan (a re-run approves
    nothing twice), else the pending, fineable one whose plate read is most certain; None if none."""
    issued = next((r for r in records if r.number), None)
    if issued is not None:
        return issued
    fineable = [r for r in records if r.status == Status.PENDING and r.plate and r.fine_pkr is not None]
    return max(fineable, key=lambda r: confidence[r.id] or 0.0, default=None)


def recorded_violations(db: str) -> list:
    """Every recorded violation as the CLI lists it (challan.crud.to_public), oldest first."""
    from challan import crud
    from challan.db import session_scope

    with session_scope(db) as session:
        return crud.to_public(session, violations=crud.list_violations(session))


def demo_officer(session) -> str:
    """The demo officer's username, its account made on first use with a random password no one is
    told: it issues the demo's challan and signs in nowhere (`anpr officer add` makes yours)."""
    from challan import users

    if users.get_officer(session, username=DEMO_OFFICER) is None:
        users.add_officer(
            session,
            username=DEMO_OFFICER,
            password=secrets.token_urlsafe(24),
            role="officer",
            actor="anpr demo",
            **DEMO_PERSON,
        )
    return DEMO_OFFICER


def issue_demo_challan(db: str, out: Path) -> DemoChallan | None:
    """Approve the violation `violation_to_approve` picks as the demo officer and write its challan PDF
    under `out`; None when the clip produced no violation with a plate read."""
    from challan import crud, lifecycle, pdf
    from challan.db import session_scope

    with session_scope(db) as session:
        violations = crud.list_violations(session)
        records = crud.to_public(session, violations=violations)
        confidence = {v.id: v.plate_confidence for v in violations}
    target = violation_to_approve(records, confidence)
    if target is None:
        return None
    approve = target.status == Status.PENDING
    if approve:
        with session_scope(db) as session:
            lifecycle.approve_violation(session, violation_id=target.id, officer=demo_officer(session))
    with session_scope(db) as session:
        document = pdf.challan_pdf(session, key=str(target.id))
        number = crud.find_violation(session, key=str(target.id)).challan.number
    path = out / f"challan-{number}.pdf"
    path.write_bytes(document)
    return DemoChallan(violation_id=target.id, number=number, pdf=path, approved_now=approve)
