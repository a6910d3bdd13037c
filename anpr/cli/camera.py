"""`anpr camera`: cameras the hub does not run, which post their events to POST /api/v1/ingest/events
with a key of their own (challan.cameras)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Cameras that post events to the hub (private cameras, other vendors' systems): add one with"
    " its site file and get its API key, list them, revoke a key.",
    no_args_is_help=True,
)
ACTOR = "cli"


@app.command()
def add(
    camera_id: Annotated[str, typer.Argument(metavar="ID", help="The camera's id, e.g. LHR-REGAL-01-CAM2.")],
    site: Annotated[
        Path,
        typer.Option(
            "--site", help="The camera's site file: its site and the rules its events are judged by."
        ),
    ],
    per_minute: Annotated[
        int, typer.Option("--per-minute", min=1, help="Events the key may post a minute (retries count).")
    ] = 600,
    description: Annotated[str | None, typer.Option(help="Where it is, who runs it.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, the key included.")] = False,
    db: DbOption = None,
) -> None:
    """Register a camera and print its API key, once: only its SHA-256 is stored, so a lost key is
    replaced by `anpr camera revoke ID` and adding the camera again. The key goes on standard output
    alone (KEY=$(anpr camera add ...)); what was registered, on standard error."""
    from anpr.jobs.footage import site_rules
    from anpr.site import load_site
    from challan.cameras import register_camera
    from challan.db import session_scope

    loaded = load_site(site)
    rules = site_rules(loaded)
    with session_scope(db) as session:
        key = register_camera(
            session,
            camera_id=camera_id,
            rules=rules,
            site_name=loaded.config.site.name,
            actor=ACTOR,
            events_per_minute=per_minute,
            description=description,
        )
        location = loaded.config.site.location
        if location is not None:  # where the site is, for the hub's checks across sites
            from challan.sightings import locate_site

            locate_site(session, site_id=rules.site_id, lat=location.lat, lon=location.lon, actor=ACTOR)
    enabled = ", ".join(sorted(rules.enabled)) or "none"
    if as_json:
        record = {"id": camera_id, "site_id": rules.site_id, "rules": sorted(rules.enabled), "key": key}
        typer.echo(json.dumps(record | {"events_per_minute": per_minute}))
        return
    typer.echo(
        f"camera {camera_id} registered at site {rules.site_id} (rules: {enabled}; {per_minute} events a"
        " minute). Its key, shown this once:",
        err=True,
    )
    typer.echo(key)


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per camera.")] = False,
    db: DbOption = None,
) -> None:
    """Cameras with a key, active or revoked (never the key)."""
    from challan.cameras import list_cameras
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        cameras = list_cameras(session)
    for camera in cameras:
        if as_json:
            typer.echo(json.dumps(camera.to_json()))
            continue
        when = f"revoked {camera.revoked_at:%Y-%m-%d %H:%M}" if camera.revoked_at else "active"
        rules = ",".join(camera.rules) or "-"
        typer.echo(f"{camera.id:<24} {camera.site_id:<20} {when:<24} {camera.events_per_minute}/min  {rules}")


@app.command()
def revoke(
    camera_id: Annotated[str, typer.Argument(metavar="ID", help="The camera whose key to refuse.")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log).")] = None,
    db: DbOption = None,
) -> None:
    """Refuse the camera's key from now on; what it posted before stays recorded."""
    from challan.cameras import revoke_camera
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        camera = revoke_camera(session, camera_id=camera_id, actor=ACTOR, reason=reason)
        revoked = camera.revoked_at
    assert revoked is not None  # set by revoke_camera
    typer.echo(f"camera {camera_id}'s key revoked at {revoked.isoformat(timespec='seconds')}")
