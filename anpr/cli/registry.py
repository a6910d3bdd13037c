"""`anpr registry`: the vehicle registry (owner, CNIC, address, class, make, colour by plate)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Vehicle registry: import owners and vehicle classes from CSV, look a plate up.",
    no_args_is_help=True,
)


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with columns plate, owner_name, cnic, vehicle_class and "
            "optionally address, make, colour, registration_year.",
            show_default=False,
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as one JSON object.")] = False,
    db: DbOption = None,
) -> None:
    """Add or update vehicles from CSV. The whole file is checked first: one bad row stops the import
    with its line number and nothing is changed."""
    from challan.db import session_scope
    from challan.registry import import_csv

    with session_scope(db) as session:
        result = import_csv(session, path=file)
    if as_json:
        typer.echo(json.dumps(result.to_json()))
    else:
        typer.echo(
            f"imported {file}: {result.created} added, {result.updated} updated, {result.unchanged} unchanged"
        )


@app.command()
def show(
    plate: Annotated[str, typer.Argument(help="Plate (series + number).", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    db: DbOption = None,
) -> None:
    """The registry entry for a plate."""
    from challan import crud
    from challan.db import session_scope
    from challan.errors import NotFoundError

    with session_scope(db, create=False) as session:
        vehicle = crud.get_vehicle(session, plate=crud.normalize_plate(plate))
        if vehicle is None:
            raise NotFoundError(f"plate {plate} is not in the vehicle registry")
        record = vehicle.model_dump(mode="json", exclude={"id"})
    if as_json:
        typer.echo(json.dumps(record, ensure_ascii=False))
    else:
        for key, value in record.items():
            typer.echo(f"{key}: {value if value is not None else '-'}")
