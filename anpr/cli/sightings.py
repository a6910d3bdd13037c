"""`anpr sightings purge`: let go of what the cameras saw of vehicles that did nothing, once the
retention (ANPR_SIGHTING_RETENTION hours, 72 unless set) has passed (challan.retention). The hub's
web app does this hourly by itself; this is for a records database nothing long-running serves."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from anpr.cli.common import DbOption

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Sightings: every vehicle a camera followed; those of vehicles that did nothing are purged "
    "after ANPR_SIGHTING_RETENTION hours.",
    no_args_is_help=True,
)


@app.command("purge")
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    db: DbOption = None,
) -> None:
    """Delete the sightings, and redact the events, of vehicles with no violation and no alert last
    seen over ANPR_SIGHTING_RETENTION hours ago (0: never), with their evidence files under
    ANPR_EVIDENCE_DIR that no record still names. Each batch is written to the audit log."""
    from challan import retention
    from challan.db import check_ready, database_url, get_engine, require_existing
    from challan.settings import Settings

    settings = Settings.from_env()  # afresh: the variables as they are now
    retention.retention_hours(settings)  # a retention under the minimum is one line before any work
    url = database_url(db)
    require_existing(url)
    check_ready(url)
    report = retention.purge(get_engine(url), settings=settings, dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps(report.to_json()))
        return
    if report.before is None:
        typer.echo("the retention is off (ANPR_SIGHTING_RETENTION=0): nothing is purged")
        return
    verb = ("would purge", "would redact", "would delete") if dry_run else ("purged", "redacted", "deleted")
    typer.echo(
        f"{verb[0]} {report.sightings} sightings and {verb[1]} {report.events} events of vehicles with no "
        f"violation and no alert last seen before {report.before:%Y-%m-%d %H:%M} UTC "
        f"(retention {report.retention_hours:g} h); {verb[2]} {report.files_deleted} evidence files"
        + ("" if dry_run else f" ({report.files_kept} kept, {report.files_missing} already gone)")
    )
