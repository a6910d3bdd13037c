"""`anpr db`: the records database's schema and roles, run as its owner."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from anpr.cli.common import DbOption

app = typer.Typer(
    rich_markup_mode="markdown",
    help="The records database: migrate it, and grant the application's least-privilege role.",
    no_args_is_help=True,
)


@app.command()
def upgrade(db: DbOption = None) -> None:
    """Bring the schema to the latest migration (as the database's owner: the application's role may not)."""
    from alembic.migration import MigrationContext

    from challan.db import database_url, get_engine, init_db, redacted

    init_db(db)
    with get_engine(db).connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    typer.echo(f"records database {redacted(database_url(db))} at revision {current}")


@app.command("grant-app-role")
def grant_app_role(
    name: Annotated[str, typer.Argument(help="The role's name (a-z, 0-9, '_').", show_default=False)],
    db: DbOption = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Set the role's password from the first line of stdin.")
    ] = False,
    print_sql: Annotated[
        bool, typer.Option("--print-sql", help="Print the SQL for a DBA instead of running it.")
    ] = False,
    schema: Annotated[str, typer.Option(help="The schema the SQL of --print-sql grants on.")] = "public",
) -> None:
    """Create (if missing) the PostgreSQL role the portal and the workers run as, and grant it rows
    only: SELECT, INSERT, UPDATE, never DELETE, no UPDATE on the append-only tables, no ownership, so
    it cannot drop a trigger, alter a table or set session_replication_role. Run as the schema's
    owner after every upgrade; point the portal and the workers at the role
    (postgresql+psycopg://NAME@host/db)."""
    import sqlalchemy as sa

    from challan import grants
    from challan.db import database_url

    if print_sql:
        database = sa.make_url(database_url(db)).database or "postgres"
        for statement in grants.app_role_statements(name, schema=schema, database=database):
            typer.echo(statement + ";")
        return
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    created = grants.grant_app_role(db, name, password=password)
    typer.echo(f"role {name} {'created and ' if created else ''}granted the application's privileges")
