"""`anpr hotlist`: plates on named lists (stolen, wanted ...) that raise an alert when a camera reads
them (challan.hotlists). Unpaid overdue challans form the built-in `defaulters` list."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from anpr.cli.common import DbOption

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Hotlists: plates that raise an alert when a camera reads them (or a look-alike: 0/O, 1/I, "
    "8/B, 5/S, 2/Z). Unpaid overdue challans are the built-in `defaulters` list.",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]
ListOption = Annotated[
    str,
    typer.Option("--list", help="The list: stolen, wanted, or another name of your own.", show_default=False),
]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@app.command()
def add(
    plate: Annotated[str, typer.Argument(help="Plate (series + number, e.g. LEH5789).", show_default=False)],
    list_name: ListOption,
    reason: Annotated[str, typer.Option("--reason", help="Why it is listed.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Put a plate on a list (again: its reason is updated)."""
    from challan import crud, hotlists
    from challan.db import session_scope

    with session_scope(db) as session:
        done = hotlists.add_entry(session, plate=plate, list_name=list_name, reason=reason, actor=_actor())
    typer.echo(f"{crud.normalize_plate(plate)} {done} on {hotlists.valid_list(list_name)}")


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="CSV of plate,list,reason (header optional).", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as one JSON object.")] = False,
    db: DbOption = None,
) -> None:
    """Add or update plates from CSV. The whole file is checked first: one bad row stops the import
    with its line number and nothing is changed."""
    from challan import hotlists
    from challan.db import session_scope

    with session_scope(db) as session:
        result = hotlists.import_csv(session, path=file, actor=_actor())
    if as_json:
        typer.echo(json.dumps(result.to_json()))
    else:
        typer.echo(
            f"imported {file}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged"
        )


@app.command()
def remove(
    plate: Annotated[str, typer.Argument(help="Plate (series + number).", show_default=False)],
    list_name: Annotated[
        str | None, typer.Option("--list", help="Only from this list [default: every list]")
    ] = None,
    db: DbOption = None,
) -> None:
    """Take a plate off a list (kept in the records as removed, with who and when)."""
    from challan import hotlists
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        removed = hotlists.remove_entry(session, plate=plate, list_name=list_name, actor=_actor())
        lines = [f"{e.plate} removed from {e.list_name}" for e in removed]
    typer.echo("\n".join(lines))


@app.command("list")
def list_(
    list_name: Annotated[str | None, typer.Option("--list", help="Only this list.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The plates listed now, by list (the defaulters are worked out as a plate is read)."""
    from challan import hotlists
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        entries = [
            {
                "plate": e.plate,
                "list": e.list_name,
                "reason": e.reason,
                "added_by": e.added_by,
                "added_at": e.added_at.isoformat().replace("+00:00", "Z"),
            }
            for e in hotlists.list_entries(session, list_name=list_name)
        ]
    for entry in entries:
        if as_json:
            typer.echo(json.dumps(entry, ensure_ascii=False))
        else:
            typer.echo(
                f"{entry['plate']:<10}  {entry['list']:<12}  {entry['added_at'][:10]}  {entry['reason']}"
            )
