"""The `anpr` command. Each sub-app lives in its own module and only parses arguments; the work
is done by library functions in anpr/ and challan/. Heavy imports happen inside commands so that
`anpr --help` stays fast."""

from __future__ import annotations

import sys

import typer

from anpr.cli import (
    alerts,
    audit,
    batch,
    bench,
    camera,
    challan,
    db,
    demo,
    flow,
    hotlist,
    models,
    officer,
    process,
    read,
    registry,
    send,
    serve,
    sightings,
    watch,
)
from anpr.cli.common import PlainFlagsGroup

cli = typer.Typer(
    cls=PlainFlagsGroup,
    rich_markup_mode="markdown",
    name="anpr",
    help="Number-plate recognition and e-challans: read plates in photos and video, judge violations, "
    "issue and serve challans. Start with `anpr demo`; every command has --help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.command("read")(read.read)
cli.command("process")(process.process)
cli.command("batch")(batch.batch)
cli.command("worker")(batch.worker)
cli.command("watch")(watch.watch)
cli.command("flow")(flow.flow)
cli.add_typer(watch.cameras_app, name="cameras")
cli.command("demo")(demo.demo)
cli.add_typer(challan.app, name="challan")
cli.add_typer(registry.app, name="registry")
cli.command("serve")(serve.serve)
cli.add_typer(officer.app, name="officer")
cli.add_typer(bench.app, name="bench")
cli.add_typer(models.app, name="models")
cli.add_typer(audit.app, name="audit")
cli.add_typer(db.app, name="db")
cli.add_typer(hotlist.app, name="hotlist")
cli.add_typer(alerts.app, name="alerts")
cli.add_typer(sightings.app, name="sightings")
cli.add_typer(camera.app, name="camera")
cli.command("send")(send.send)


def app() -> None:
    """Entry point: run the CLI; expected errors print one line, the unexpected one line too."""
    from anpr.cli.common import run_guarded

    sys.exit(run_guarded(cli))
