"""The least-privilege PostgreSQL role the portal and the workers run as. Migrations run as the
owner of the schema; the application's role only reads and writes rows: it owns nothing, so it
cannot drop or disable a trigger, alter or truncate a table, and it is no superuser, so it cannot set
`session_replication_role` (which would switch the triggers off). On top of the triggers, it is not
granted DELETE on the tables that are never deleted from, nor UPDATE on the append-only ones.

`app_role_statements` is the SQL (printed by `anpr db grant-app-role --print-sql` for a DBA to
review); `grant_app_role` runs it as the owner. Run it again after every migration that adds tables."""

from __future__ import annotations

import re

import sqlalchemy as sa

from anpr.errors import InputError
from challan.audit import AuditLink
from challan.db import get_engine, init_db
from challan.models import APPEND_ONLY_TABLES, NO_DELETE_TABLES

ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# What the triggers guard (challan.models, challan.audit), refused by privilege as well.
APPEND_ONLY = (*APPEND_ONLY_TABLES, str(AuditLink.__tablename__))
NEVER_DELETED = (*APPEND_ONLY, *NO_DELETE_TABLES)
READ_ONLY = ("alembic_version",)


def app_role_statements(role: str, *, schema: str, database: str, create: bool = True) -> list[str]:
    """GRANTs for `role` on `schema` (and CREATE ROLE first when `create`): rows only, nothing else.
    DELETE only on the tables whose rows may go (sessions, sign-in failures), UPDATE not on the
    append-only ones; tables the owner creates later get rows by default, until this runs again."""
    role, schema, database = _identifier(role), _quoted(schema), _quoted(database)
    statements = []
    if create:
        statements.append(
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        )
    rows = "SELECT, INSERT, UPDATE, DELETE"
    statements += [
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {role}",
        f"GRANT {rows} ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        *(f"REVOKE DELETE ON {schema}.{table} FROM {role}" for table in NEVER_DELETED),
        *(f"REVOKE UPDATE ON {schema}.{table} FROM {role}" for table in APPEND_ONLY),
        *(f"REVOKE INSERT, UPDATE, DELETE ON {schema}.{table} FROM {role}" for table in READ_ONLY),
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {rows} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    return statements


def grant_app_role(url: str | None, role: str, *, password: str | None = None) -> bool:
    """Create `role` if it does not exist (LOGIN, with `password` if given) and grant it the
    application's privileges on the schema `url` works in; run as the schema's owner. Returns
    whether the role was created."""
    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        raise InputError(
            "database roles are PostgreSQL's; a SQLite file has none (--db must be postgresql://...)"
        )
    name = _identifier(role)
    init_db(url)  # every table there is to grant on
    with engine.begin() as connection:
        schema, database = connection.execute(sa.text("SELECT current_schema(), current_database()")).one()
        exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        for statement in app_role_statements(role, schema=schema, database=database, create=not exists):
            connection.exec_driver_sql(statement)
        if password is not None:
            # The password as a bound literal, never pasted into the SQL text.
            quoted = connection.execute(sa.text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
            connection.exec_driver_sql(
                f"ALTER ROLE {name} PASSWORD {quoted}", execution_options={"no_parameters": True}
            )
    return not exists


def _identifier(role: str) -> str:
    if not ROLE_PATTERN.match(role):
        raise InputError(
            f"role name '{role}' is not 1-63 characters of a-z, 0-9 and '_' starting with a letter"
        )
    return f'"{role}"'


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
