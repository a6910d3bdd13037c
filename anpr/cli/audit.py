"""`anpr audit`: check the records against their hash-chained audit log."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from anpr.cli.common import DbOption

app = typer.Typer(
    rich_markup_mode="markdown",
    help="The audit log: check that the records were not tampered with.",
    no_args_is_help=True,
)

BROKEN_EXIT = 6  # the log or a record was changed around the application
SHOWN = 50  # problems printed before "... and N more"


@app.command()
def verify(
    db: DbOption = None,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="A head an earlier verify printed (kept outside the database): fail unless the chain still"
            " holds it, so that a removed or rewritten tail shows too.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as one JSON object.")] = False,
) -> None:
    """Walk the audit log's hash chain from its first entry and compare each violation's status, each
    challan's terms, each officer's role and each vehicle's owner with what the log last recorded.
    Exits 0 with a one-line summary on an intact log, 6 naming the first broken link and every record
    no audit entry explains."""
    from challan.audit import verify_audit
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        report = verify_audit(session, expected_head=head)
    if as_json:
        typer.echo(json.dumps(report.to_json()))
    elif report.intact:
        typer.echo(report.summary())
    else:
        problems = [report.broken] if report.broken else []
        problems += list(report.unexplained)
        for problem in problems[:SHOWN]:
            typer.echo(f"error: {problem}", err=True)
        if len(problems) > SHOWN:
            typer.echo(f"error: ... and {len(problems) - SHOWN} more", err=True)
    if not report.intact:
        raise typer.Exit(BROKEN_EXIT)
