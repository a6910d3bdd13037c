"""`anpr watch` (live cameras at once, one process each) and `anpr cameras status` (their health).
The work is in anpr.jobs.watch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption
from anpr.settings import variable

DEFAULT_OUT = Path("out/watch")
StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="Folder of each camera's health file [default: ANPR_WATCH_STATE, else OUT/state].",
    ),
]


def state_folder(out: Path, state: Path | None) -> Path:
    from anpr.settings import environment

    return state or environment().watch_state or out / "state"


def watch(
    ctx: typer.Context,
    cameras: Annotated[
        Path,
        typer.Argument(
            help="Cameras file (YAML): each camera's id, source and site file.", show_default=False
        ),
    ],
    db: DbOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for each camera's evidence, by camera and start time.")
    ] = DEFAULT_OUT,
    state: StateOption = None,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Record events and violations.")] = True,
    hub: Annotated[
        str | None,
        typer.Option(
            "--hub",
            help="Send the events to this hub (its POST /api/v1/ingest/events) instead of recording"
            " them: an edge box with no database. They wait in an outbox on this box's Redis while"
            " the hub is away.",
            show_default=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="With --hub and one camera: its key from `anpr camera add` on the hub. Several cameras:"
            " each names the variable holding its key (key_env:) in the cameras file.",
            show_default=False,
        ),
    ] = None,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            envvar=variable("broker_url"),
            show_envvar=True,
            help="With --hub: this box's Redis, which holds the outbox [default: redis://127.0.0.1:6379/0].",
        ),
    ] = None,
    spool: Annotated[
        Path,
        typer.Option(
            "--spool", help="With --hub: folder keeping each queued event's evidence until the hub has it."
        ),
    ] = Path("spool"),
) -> None:
    """Process many live cameras at once, each in its own process, until Ctrl-C or SIGTERM: then each
    camera closes its open tracks, records them (or queues them for the hub) and stops. A stream
    that drops is reopened after a back-off (1 s, doubling to a minute); so is a camera process that
    dies. Each camera's health is written once a second for `anpr cameras status`.

    A source is an rtsp:// or http:// stream, a folder of frames, or a video file (`loop: true`
    plays it over and over at its frame rate, as a camera would send it).

    With --hub, each vehicle goes to the hub (with its evidence) instead of a database, in order,
    kept on this box while the hub is away; no alerts are checked here (the hub checks them).

    Example: `anpr watch cameras.yaml --db postgresql+psycopg://anpr@hub/anpr`, or on an edge box
    `anpr watch cameras.yaml --hub https://hub.example.pk --key "$KEY"`
    """
    from anpr.cli.common import fail
    from anpr.jobs.watch import load_cameras
    from anpr.jobs.watch import watch as run

    specs = load_cameras(cameras)
    target, keys = None, None
    if hub is not None:
        from anpr.jobs.uplink import camera_keys, check_outbox, hub_target
        from anpr.jobs.workers import broker_url

        if not store:
            raise fail("--hub sends every event to the hub: --no-store would send none", 2)
        source = ctx.get_parameter_source("db")
        if source is not None and source.name == "COMMANDLINE":  # ANPR_DATABASE_URL alone is left aside
            raise fail("--hub sends the events to the hub instead of a database: give --db or --hub", 2)
        target = hub_target(hub, redis_url=broker_url(broker), spool=spool)
        keys = camera_keys(specs, key)
        warning = check_outbox(target, next(iter(keys.values())))  # Redis answers, or one line
        if warning:
            typer.echo(f"warning: {warning}", err=True)
    elif key is not None:
        raise fail("--key goes with --hub (the hub's key for the camera)", 2)
    elif store:
        from challan.db import check_ready

        check_ready(db)  # reachable and migrated, or one line, before any camera starts
        from challan.retention import retention_hours
        from challan.settings import get_settings

        retention_hours(get_settings())  # ANPR_SIGHTING_RETENTION, or one line (watch purges hourly)
    folder = state_folder(out, state)
    typer.echo(f"watching {len(specs)} camera(s); health in {folder}; Ctrl-C stops", err=True)
    run(
        specs,
        db=db,
        out=out,
        state=folder,
        store=store,
        on_change=lambda camera, what, pid: typer.echo(f"{camera}: {what} (pid {pid})", err=True),
        hub=target,
        keys=keys,
    )
    typer.echo("stopped", err=True)


cameras_app = typer.Typer(
    rich_markup_mode="markdown", help="Live cameras run by `anpr watch`: their health.", no_args_is_help=True
)


@cameras_app.command("status")
def status(
    out: Annotated[Path, typer.Option("--out", help="The --out given to anpr watch.")] = DEFAULT_OUT,
    state: StateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per camera.")] = False,
) -> None:
    """Each camera's last frame, frames a second, lag, frames dropped, reconnects, vehicles and
    violations, as `anpr watch` last wrote them; with --hub also its outbox: events queued for the
    hub, how long the oldest has waited, events sent, and why the hub takes none now. A camera
    whose health is more than 10 s old is shown `silent`."""
    from anpr.jobs.health import read_health

    folder = state_folder(out, state)
    records = read_health(folder)
    if not records:
        raise typer.BadParameter(f"no camera health in {folder} (is anpr watch running with this --out?)")
    if as_json:
        for record in records:
            typer.echo(json.dumps(record))
        return
    from rich.console import Console
    from rich.table import Table

    hub = any(r.get("queued") is not None for r in records)  # cameras sending to a hub (--hub)
    columns = ["camera", "status", "last frame", "fps", "lag s", "dropped", "reconnects", "vehicles"]
    columns += ["violations", *(["queued", "oldest s", "sent"] if hub else []), "error"]
    table = Table(*columns)
    for r in records:
        row = [
            r["camera"],
            r["status"],
            (r["last_frame_at"] or "-")[11:19],
            f"{r['fps']:.1f}",
            f"{r['lag_s']:.2f}",
            str(r["dropped"]),
            str(r["reconnects"]),
            str(r["vehicles"]),
            str(r["violations"]),
        ]
        if hub:
            queued, age = r.get("queued"), r.get("queued_age_s")
            row += ["-" if queued is None else str(queued), "-" if age is None else f"{age:.0f}"]
            row.append(str(r.get("sent", 0)))
        errors = [r["error"], r.get("hub_error") and f"hub: {r['hub_error']}"]
        table.add_row(*row, "; ".join(e for e in errors if e))
    Console().print(table)
