"""`anpr alerts`: what the cameras raised (hotlist matches, cloned plates, registry mismatches,
non-standard plates), as `anpr process` stores them the moment a read settles (challan.alerts)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from anpr.cli.common import DbOption

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Alerts raised by the cameras: hotlist matches (exact or fuzzy), cloned_plate, "
    "registry_mismatch, non_standard_plate.",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    kind: Annotated[
        str | None, typer.Option(help="Only this kind (a list's name, cloned_plate, ...).")
    ] = None,
    plate: Annotated[str | None, typer.Option(help="Only this plate.")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site id.")] = None,
    after: Annotated[int | None, typer.Option(min=0, help="Only alerts after this id (to follow).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per alert (JSON lines).")] = False,
    db: DbOption = None,
) -> None:
    """Alerts, oldest first. JSON lines carry id, kind, plate, read, match, list, reason, site_id,
    seen_at, track_id and evidence."""
    from challan import alerts
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        found = alerts.list_alerts(session, kind=kind, plate=plate, site_id=site, after_id=after, limit=limit)
        records = [(alerts.alert_json(a), a.seen_at) for a in found]
    if as_json:
        for record, _ in records:
            typer.echo(json.dumps(record, ensure_ascii=False))
        return
    if records:
        typer.echo(
            f"{'ID':>5}  {'KIND':<18}  {'PLATE':<10}  {'READ':<10}  {'MATCH':<5}  {'SEEN AT':<23}  "
            "SITE / TRACK: REASON"
        )
    for r, seen_at in records:
        typer.echo(
            f"{r['id']:>5}  {r['kind']:<18}  {r['plate']:<10}  {r['read'] or '-':<10}  "
            f"{r['match'] or '-':<5}  {_local(seen_at):<23}  {r['site_id']} / {r['track_id']}: {r['reason']}"
        )


def _local(moment) -> str:
    from zoneinfo import ZoneInfo

    from challan.settings import get_settings

    return f"{moment.astimezone(ZoneInfo(get_settings().timezone)):%Y-%m-%d %H:%M:%S %Z}"
