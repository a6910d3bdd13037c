"""`anpr flow`: traffic counts and speeds per site and interval, from the sightings (challan.flow)."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from typing import Annotated

import typer

from anpr.cli.common import DbOption


def flow(
    site: Annotated[str | None, typer.Option("--site", help="Only this site id.")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="From this time (ISO 8601; without an offset, UTC).")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Up to this time (ISO 8601).")] = None,
    interval: Annotated[
        str, typer.Option(help="Interval length: 15m, 1h, ... (1 minute to 24 hours).")
    ] = "15m",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per site and interval.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header row.")] = False,
    db: DbOption = None,
) -> None:
    """Vehicles per site and interval: by class, mean and 85th-percentile speed, flow per hour.
    Intervals are aligned to the clock in UTC; a vehicle counts where it was first seen. JSON lines
    carry site_id, start, end, vehicles, by_class, mean_kmh, p85_kmh and per_hour.

    Example: `anpr flow --site LHR-REGAL-01 --since 2026-12-07T00:00 --interval 1h --json`
    """
    from datetime import UTC

    from challan.db import session_scope
    from challan.flow import flow as rows_of
    from challan.flow import parse_interval

    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both")
    step = parse_interval(interval)
    since, until = (t.replace(tzinfo=UTC) if t and t.tzinfo is None else t for t in (since, until))
    with session_scope(db, create=False) as session:
        rows = list(rows_of(session, interval=step, site_id=site, since=since, until=until))
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row.to_json()))
        return
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(
            ["site_id", "start", "end", "vehicles", "by_class", "mean_kmh", "p85_kmh", "per_hour"]
        )
        for row in rows:
            data = row.to_json()
            data["by_class"] = ";".join(f"{k}={v}" for k, v in row.by_class.items())
            writer.writerow(
                [
                    data[k]
                    for k in (
                        "site_id",
                        "start",
                        "end",
                        "vehicles",
                        "by_class",
                        "mean_kmh",
                        "p85_kmh",
                        "per_hour",
                    )
                ]
            )
        return
    if not rows:
        typer.echo("no vehicles in that time", err=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("site", "from (UTC)", "to", "vehicles", "per hour", "by class", "mean km/h", "85th km/h")
    for row in rows:
        table.add_row(
            row.site_id,
            f"{row.start:%Y-%m-%d %H:%M}",
            f"{row.end:%H:%M}",
            str(row.vehicles),
            f"{row.per_hour:g}",
            ", ".join(f"{k} {v}" for k, v in row.by_class.items()),
            "-" if row.mean_kmh is None else f"{row.mean_kmh:.1f}",
            "-" if row.p85_kmh is None else f"{row.p85_kmh:.1f}",
        )
    Console().print(table)
