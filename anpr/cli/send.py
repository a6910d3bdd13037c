"""`anpr send`: vehicle events (`anpr process --json` output) from an edge box to the hub, through
an outbox that keeps them while the hub is away (anpr.jobs.hub)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from anpr.settings import variable

EXIT_LEFT = 4  # events are still in the outbox (the hub unreachable, or another sender busy)


def send(
    hub: Annotated[str, typer.Option("--hub", help="The hub's address, e.g. https://hub.example.pk.")],
    key: Annotated[str, typer.Option("--key", help="This camera's key, from `anpr camera add` on the hub.")],
    events: Annotated[
        str | None,
        typer.Argument(
            metavar="[EVENTS.jsonl]",
            help="`anpr process --json` output, an event a line; - reads standard input. Left out: only"
            " deliver what the outbox holds.",
            show_default=False,
        ),
    ] = None,
    evidence_dir: Annotated[
        Path, typer.Option("--evidence-dir", help="Where the events' relative evidence paths are.")
    ] = Path("."),
    spool: Annotated[
        Path,
        typer.Option("--spool", help="Folder keeping each queued event's evidence until the hub has it."),
    ] = Path("spool"),
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            envvar=variable("broker_url"),
            show_envvar=True,
            help="This box's Redis, which holds the outbox [default: redis://127.0.0.1:6379/0].",
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", min=0, help="Seconds to keep trying a hub that cannot take an event, then stop."
        ),
    ] = 0.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON line per event the hub answered.")
    ] = False,
) -> None:
    """Queue the events in the outbox (their evidence copied into the spool folder), then send the
    outbox to the hub oldest first. What the hub cannot take now stays queued, in order, for the
    next `anpr send`; the same event queued twice is sent once, and the hub stores it once. Exit 0
    when the outbox is empty, 4 when events are left in it, 1 when the hub rejected some (kept
    aside with the reason), 2 for a bad line (nothing queued) or a key the hub refuses."""
    from anpr.cli.common import fail
    from anpr.jobs.hub import Delivery, Outbox
    from anpr.jobs.workers import broker_url

    if not hub.startswith(("http://", "https://")):
        raise fail("--hub must be the hub's http:// or https:// address", 2)
    redis_url = broker_url(broker)
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise fail(f"the outbox needs Redis (redis://...), not {redis_url.split(':')[0]}:// (--broker)", 2)
    outbox = Outbox(hub=hub, key=key, redis_url=redis_url, spool=spool)
    warning = outbox.persistence_warning()
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    queued = skipped = 0
    if events is not None:
        if events == "-":
            queued, skipped = outbox.put_lines(sys.stdin, evidence_dir=evidence_dir)
        else:
            try:
                with open(events, encoding="utf-8") as handle:
                    queued, skipped = outbox.put_lines(handle, evidence_dir=evidence_dir)
            except OSError as exc:
                raise fail(f"{events}: {exc.strerror or exc}", 2) from None

    def answered(delivery: Delivery) -> None:
        if as_json:
            typer.echo(json.dumps(delivery.to_json()))
        if delivery.status == "rejected":
            where = f"site {delivery.site_id} track {delivery.track_id} at {delivery.first_seen}"
            typer.echo(f"rejected: {where}: {delivery.http_status} {delivery.reason}", err=True)

    run = outbox.deliver(wait_s=wait, on_delivery=answered)
    again = f" ({skipped} queued or sent before)" if skipped else ""
    line = (
        f"queued {queued}{again}; sent to {hub}: {run.stored} stored, {run.duplicates} already there,"
        f" {run.rejected} rejected; {run.left} left in the outbox"
    )
    typer.echo(line + (f" ({run.stopped})" if run.left else ""), err=True)
    if run.left:
        raise typer.Exit(EXIT_LEFT)
    if run.rejected:
        raise typer.Exit(1)
