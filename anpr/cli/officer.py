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


FullNameOption = Annotated[
    str, typer.Option("--full-name", help="The officer's name as a notice prints it.", show_default=False)
]
RankOption = Annotated[
    str,
    typer.Option("--rank", help="Rank, e.g. Inspector, Sub-Inspector, Traffic Warden.", show_default=False),
]
BadgeOption = Annotated[
    str, typer.Option("--badge", help="Badge number (letters, digits, '-', '/'), unique.", show_default=False)
]


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="Username (a-z, 0-9, '.', '_', '-').", show_default=False)],
    full_name: FullNameOption,
    rank: RankOption,
    badge: BadgeOption,
    role: Annotated[str, typer.Option(help="officer (reviews) or admin (also sees accounts).")] = "officer",
    db: DbOption = None,
) -> None:
    """Create an officer account (the password is prompted for, or read from stdin). The notices the
    officer issues name them by rank, name and badge number."""
    from challan import users
    from challan.db import session_scope

    password = _password()
    with session_scope(db) as session:
        officer = users.add_officer(
            session,
            username=name,
            password=password,
            role=role,
            actor="cli",
            full_name=full_name,
            rank=rank,
            badge_number=badge,
        )
        typer.echo(
            f"officer {officer.username} added (role {officer.role}): {officer.rank} {officer.full_name},"
            f" badge {officer.badge_number}"
        )


@app.command()
def edit(
    name: Annotated[str, typer.Argument(help="Username.", show_default=False)],
    full_name: Annotated[str | None, typer.Option("--full-name", help="New name.")] = None,
    rank: Annotated[str | None, typer.Option("--rank", help="New rank.")] = None,
    badge: Annotated[str | None, typer.Option("--badge", help="New badge number.")] = None,
    db: DbOption = None,
) -> None:
    """Change an account's name, rank or badge number (an account made before they were asked for
    needs all three). Challans already issued keep the officer as they were named that day."""
    from challan import users
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        officer = users.edit_officer(
            session, username=name, actor="cli", full_name=full_name, rank=rank, badge_number=badge
        )
        typer.echo(
            f"officer {officer.username}: {officer.rank} {officer.full_name}, badge {officer.badge_number}"
        )


@app.command("list")
def list_(db: DbOption = None) -> None:
    """Every account: username, role, active, then badge, rank and name (- where not given yet)."""
    from challan import users
    from challan.db import session_scope

    with session_scope(db, create=False) as session:
        for officer in users.list_officers(session):
            state = "active" if officer.active else "disabled"
            person = (
                f"{officer.badge_number:<12} {officer.rank} {officer.full_name}" if officer.full_name else "-"
            )
            typer.echo(f"{officer.username:<24} {officer.role:<8} {state:<8} {person}")


@app.command("sign-out")
def sign_out(
    name: Annotated[str, typer.Argument(help="Username.", show_default=False)],
    reason: Annotated[str | None, typer.Option(help="Why, for the audit log (a lost phone...).")] = None,
    db: DbOption = None,
) -> None:
    """Sign an account out everywhere: its API tokens and portal sessions stop working at once; the
    password is kept and the officer can sign in again (for a lost phone or a leaked token; to stop
    the account itself, disable it)."""
    from challan import users
    from challan.db import session_scope

    with session_scope(db) as session:
        officer = users.sign_out(session, username=name, actor="cli", reason=reason)
        typer.echo(f"officer {officer.username} signed out everywhere")


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
