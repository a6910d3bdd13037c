"""`anpr challan`: review violations and manage challans. ID is a violation's record id (as `list`
prints it); NUMBER is an issued challan's number. Every command takes --db (or ANPR_DATABASE_URL);
--json prints one JSON object per record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption, fail

app = typer.Typer(
    rich_markup_mode="markdown",
    help="E-challans: list and review violations, issue, print, pay, contest.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per record (JSON lines).")]
OfficerOption = Annotated[
    str,
    typer.Option(
        "--officer",
        help="Your active officer account's username (`anpr officer list`); named on the notice.",
    ),
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")]
IdArgument = Annotated[
    str, typer.Argument(help="Violation id (from `list`) or challan number.", show_default=False)
]
NumberArgument = Annotated[
    str, typer.Argument(help="Challan number, e.g. PB-2026-000042-K7QX.", show_default=False)
]


def _emit(records, as_json: bool, line) -> None:
    for record in records:
        typer.echo(
            json.dumps(record.model_dump(mode="json"), ensure_ascii=False) if as_json else line(record)
        )


def _line(r) -> str:
    fine = f"PKR {r.fine_pkr:,}" if r.fine_pkr is not None else "-"
    when = _local(r.occurred_at)
    plate = r.plate or "unreadable"
    return (
        f"{r.id:>5}  {r.number or '-':<20}  {plate:<10}  {r.violation:<14}  {r.vehicle_type:<10}  "
        f"{r.status:<9}  {fine:>10}  {when}  {r.site}"
    )


def _local(moment) -> str:
    from zoneinfo import ZoneInfo

    from challan.settings import get_settings

    return f"{moment.astimezone(ZoneInfo(get_settings().timezone)):%Y-%m-%d %H:%M:%S %Z}"


def _public(session, violation):
    from challan import crud

    return crud.to_public(session, violations=[violation])[0]


def _officer(session, username: str) -> str:
    """The username of the active account `--officer` names (one line, exit 2, for any other text)."""
    from challan import users

    return users.active_officer(session, username=username).username


@app.command("list")
def list_(
    status: Annotated[
        str | None,
        typer.Option(help="Only this status (pending, issued, contested, ...: a wrong one lists them all)."),
    ] = None,
    plate: Annotated[str | None, typer.Option(help="Only this plate (as read or as corrected).")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site id.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many records.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Violations and challans, oldest offence first."""
    from challan import crud
    from challan.db import session_scope
    from challan.models import Status

    statuses = [s.value for s in Status]
    if status is not None and status not in statuses:
        from anpr.errors import InputError

        raise InputError(f"--status '{status}' is not one of {', '.join(statuses)}")
    with session_scope(db, create=False) as session:
        violations = crud.list_violations(session, status=status, plate=plate, site_id=site, limit=limit)
        records = crud.to_public(session, violations=violations)
    if not as_json:
        typer.echo(
            f"{'ID':>5}  {'NUMBER':<20}  {'PLATE':<10}  {'VIOLATION':<14}  {'TYPE':<10}  "
            f"{'STATUS':<9}  {'FINE':>10}  OCCURRED             SITE"
        )
    _emit(records, as_json, _line)


@app.command()
def show(key: IdArgument, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Everything on record about one violation: reads, measurements, evidence check, challan, history."""
    from challan import crud
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        detail = crud.violation_detail(session, violation=crud.find_violation(session, key=key))
    if as_json:
        typer.echo(json.dumps(detail, ensure_ascii=False))
        return
    for key_, value in detail.items():
        if isinstance(value, list):
            typer.echo(f"{key_}:")
            for item in value:
                typer.echo(f"  - {json.dumps(item, ensure_ascii=False) if isinstance(item, dict) else item}")
        elif isinstance(value, dict):
            typer.echo(f"{key_}: {json.dumps(value, ensure_ascii=False)}")
        elif key_ == "plate_read" and not value:
            typer.echo(f"{key_}: - (plate unreadable)")
        elif key_ == "plate" and not value:  # still unread: no officer has typed it
            typer.echo(f"{key_}: - (plate unreadable: approve only with --plate, or reject)")
        else:
            typer.echo(f"{key_}: {value if value is not None else '-'}")


@app.command()
def approve(
    violation_id: Annotated[int, typer.Argument(metavar="ID", help="Violation id.", show_default=False)],
    officer: OfficerOption,
    plate: Annotated[
        str | None,
        typer.Option(
            "--plate",
            help="The corrected plate, if the camera misread it (the original read stays on record).",
        ),
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Confirm a pending violation; the challan is issued at once (number, dates, PSID)."""
    from challan import lifecycle
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        challan = lifecycle.approve_violation(
            session, violation_id=violation_id, officer=_officer(session, officer), corrected_plate=plate
        )
        record = _public(session, challan.violation)
    _emit(
        [record],
        as_json,
        lambda r: (
            f"issued challan {r.number} to {r.plate}: PKR {r.fine_pkr:,}, "
            f"due {r.due_on:%d %b %Y}, PSID {r.psid}"
        ),
    )


@app.command()
def reject(
    violation_id: Annotated[int, typer.Argument(metavar="ID", help="Violation id.", show_default=False)],
    officer: OfficerOption,
    reason: ReasonOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Reject a pending violation (kept on record with the reason)."""
    from challan import lifecycle
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        violation = lifecycle.reject_violation(
            session, violation_id=violation_id, officer=_officer(session, officer), reason=reason
        )
        record = _public(session, violation)
    _emit([record], as_json, lambda r: f"rejected violation {r.id} ({r.plate}, {r.violation})")


@app.command()
def pdf(
    key: IdArgument,
    output: Annotated[Path, typer.Option("-o", "--output", help="PDF file to write.", show_default=False)],
    public: Annotated[bool, typer.Option("--public", help="Leave out the owner's personal data.")] = False,
    db: DbOption = None,
) -> None:
    """Write the challan notice (one A4 page) as PDF."""
    from challan.db import session_scope
    from challan.pdf import challan_pdf
    from challan.public_images import PublicCopyUnavailable

    with session_scope(db, create=False) as session:
        try:
            data = challan_pdf(session, key=key, public=public)
        except PublicCopyUnavailable as exc:  # never a public notice with the originals in it
            raise fail(f"no public copy of the evidence can be made here: {exc}", 3) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    typer.echo(f"wrote {output} ({len(data) // 1024} KiB)")


def _challan_step(step, number: str, as_json: bool, db: str | None, officer: str | None = None, **kwargs):
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        if officer is not None:
            kwargs["officer"] = _officer(session, officer)
        challan = step(session, number=number, **kwargs)
        challan = getattr(challan, "challan", challan)  # a Payment points at its challan
        record = _public(session, challan.violation)
    # Each step is named by the status it reaches: "challan PB-... paid: status paid".
    _emit([record], as_json, lambda r: f"challan {r.number} {r.status}: status {r.status}")


@app.command()
def pay(
    number: NumberArgument,
    reference: Annotated[
        str, typer.Option("--reference", help="The bank's or ePay's transaction reference.")
    ],
    by: Annotated[str, typer.Option("--by", help="Who reports the payment.")] = "epay",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Record the fine as paid."""
    from challan import lifecycle

    _challan_step(lifecycle.record_payment, number, as_json, db, reference=reference, actor=by)


@app.command()
def contest(
    number: NumberArgument,
    reason: ReasonOption,
    by: Annotated[str, typer.Option("--by", help="Who contests (default: the citizen).")] = "citizen",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Record a contest of an issued, unpaid challan received by post or e-mail, within the contest
    window (the CNIC is not asked: whoever records it has checked who sent it)."""
    from challan import lifecycle

    _challan_step(lifecycle.contest_challan, number, as_json, db, reason=reason, actor=by, cnic=None)


@app.command()
def uphold(
    number: NumberArgument,
    officer: OfficerOption,
    reason: ReasonOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Turn a contest down: the challan stands and is still to be paid."""
    from challan import lifecycle

    _challan_step(lifecycle.uphold_challan, number, as_json, db, officer=officer, reason=reason)


@app.command()
def cancel(
    number: NumberArgument,
    officer: OfficerOption,
    reason: ReasonOption,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Accept a contest: the challan is cancelled (kept on record)."""
    from challan import lifecycle

    _challan_step(lifecycle.cancel_challan, number, as_json, db, officer=officer, reason=reason)
