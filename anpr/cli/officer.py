"""`anpr officer`: portal accounts. The password is read from a hidden prompt, or from the first
line of standard input when it is not a terminal (`printf '%s\n' "$PW" | anpr officer add ...`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from anpr.cli.common import DbOption

app = typer.Typer(
    rich_markup_mode="markdown", help="Officer accounts for the web portal.", no_args_is_help=True
)


def _password() -> str:
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="Username (a-z, 0-9, '.', '_', '-').", show_default=False)],
    role: Annotated[str, typer.Option(help="officer (reviews) or admin (also sees accounts).")] = "officer",
    db: DbOption = None,
) -> None:
    """Create an officer account (the password is prompted for, or read from stdin)."""
    from challan import users
    from challan.db import session_scope

    password = _password()
    with session_scope(db) as session:
        officer = users.add_officer(session, username=name, password=password, role=role, actor="cli")
        typer.echo(f"officer {officer.username} added (role {officer.role})")


@app.command("list")
def list_(db: DbOption = None) -> None:
    """Every account: username, role, active."""
    from challan import users
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        for officer in users.list_officers(session):
            typer.echo(
                f"{officer.username:<24} {officer.role:<8} {'active' if officer.active else 'disabled'}"
            )


@app.command()
def disable(
    name: Annotated[str, typer.Argument(help="Username.", show_default=False)], db: DbOption = None
) -> None:
    """Disable an account: its sessions and tokens stop working at once."""
    from challan import users
    from challan.db import session_scope

    with session_scope(db) as session:
        users.set_active(session, username=name, active=False, actor="cli")
        typer.echo(f"officer {name} disabled")
