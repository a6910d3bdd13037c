"""What every command shares: one-line failures, the database option, console output."""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup, TyperOption

from anpr.settings import variable

if TYPE_CHECKING:  # Typer runs on its own copy of click
    from typer._click import Command, Context, Parameter

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=variable("database_url"),
        help="Records database URL (default: sqlite:///anpr.db in the working folder).",
        show_envvar=True,
    ),
]


def checked_region(value: str | None) -> str | None:
    """--region's callback: a usage error for a region no reader can be told."""
    from anpr.plates.formats import check_region

    try:
        return None if value is None else check_region(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


RegionOverride = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="Plate grammar to rank reads by: auto, pk, us, eu, br [default: the site file's"
        " site.plate_region, else auto].",
        callback=checked_region,
        show_default=False,
    ),
]


class PlainFlagsGroup(TyperGroup):
    """The `anpr` group. Typer's rich help puts a value type after every on/off flag (`--json
    <bool>`, `--help <bool>`), as if the flag took a value; an empty metavar leaves that cell blank,
    as click's plain help does. Done here, for the group and for each command it hands out (and the
    commands of its sub-apps), so that no command has to remember it."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _untyped_flags(super().get_params(ctx))

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _untype_flags_below(command, ctx)
        return command


def _untype_flags_below(command: Command, ctx: Context) -> None:
    _untyped_flags(command.get_params(ctx))
    for sub in getattr(command, "commands", {}).values():
        _untype_flags_below(sub, ctx)


def _untyped_flags(params: list[Parameter]) -> list[Parameter]:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line on stderr and return an Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def run_guarded(command) -> int:
    """Run the Typer app so that no traceback reaches the user (set ANPR_DEBUG=1 to see them).
    Click's standalone mode already turns usage errors and Exit into exit codes; what reaches us
    here is our own AnprError or something unexpected."""
    from anpr.errors import AnprError

    try:
        command()
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except AnprError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        database = _database_failure(exc)
        if database:
            typer.echo(f"error: {database}", err=True)
            return 3
        if _debugging():
            traceback.print_exc()
        first = str(exc).splitlines()[0] if str(exc) else ""
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {first} (set ANPR_DEBUG=1 for details)", err=True
        )
        return 1
    finally:
        sys.stdout.flush()


def _database_failure(exc: Exception) -> str | None:
    """A one-line message when the records database cannot be reached or used, else None."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    if isinstance(exc, OperationalError):
        original = str(getattr(exc, "orig", exc)).strip().splitlines()
        detail = original[0] if original else type(exc).__name__
        return f"the records database is unreachable or refused the operation: {detail}"
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return f"bad database URL (--db / ANPR_DATABASE_URL): {str(exc).splitlines()[0]}"
    return None


def _debugging() -> bool:
    """ANPR_DEBUG set: show the traceback of an unexpected error (a malformed value counts as set)."""
    from anpr.errors import ConfigError
    from anpr.settings import environment

    try:
        return environment().debug
    except ConfigError:
        return True
