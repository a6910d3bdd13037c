"""`anpr db upgrade` and `anpr db grant-app-role` in-process through the same guard as the installed
command; the role is made on the real PostgreSQL and dropped afterwards."""

from __future__ import annotations

import functools
import io
import sys
import uuid

import pytest
import sqlalchemy as sa
import typer
from alembic.script import ScriptDirectory

from anpr.cli import cli
from anpr.cli.common import run_guarded
from challan.db import alembic_config, get_engine


@pytest.fixture
def anpr(monkeypatch, capsys):
    """Run `anpr ARGS...` with `stdin`: (exit code, stdout lines, stderr lines)."""
    command = typer.main.get_command(cli)

    def run(*args: str, stdin: str = ""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = run_guarded(functools.partial(command.main, args=list(args), prog_name="anpr"))
        out, err = capsys.readouterr()
        return code, out.splitlines(), err.splitlines()

    return run


@pytest.fixture
def role(db_url):
    name = f"anpr_app_{uuid.uuid4().hex[:10]}"
    yield name
    with get_engine(db_url).begin() as connection:
        if connection.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'").first():
            connection.exec_driver_sql(f'DROP OWNED BY "{name}"')
            connection.exec_driver_sql(f'DROP ROLE "{name}"')


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_grant_app_role_creates_the_role_once_and_sets_its_password(anpr, db_url, role):
    assert anpr("db", "grant-app-role", role, "--db", db_url, "--password-stdin", stdin="s3cret'%pass\n") == (
        0,
        [f"role {role} created and granted the application's privileges"],
        [],
    )
    assert anpr("db", "grant-app-role", role, "--db", db_url) == (
        0,
        [f"role {role} granted the application's privileges"],
        [],
    )
    with get_engine(db_url).connect() as connection:
        flags = connection.execute(
            sa.text(
                "SELECT rolsuper, rolcreaterole, rolcanlogin, rolpassword IS NOT NULL"
                " FROM pg_authid WHERE rolname = :r"
            ),
            {"r": role},
        ).one()
        assert tuple(flags) == (False, False, True, True)
        granted = connection.execute(
            sa.text(
                "SELECT privilege_type FROM information_schema.role_table_grants"
                " WHERE grantee = :r AND table_name = :t ORDER BY privilege_type"
            ),
            {"r": role, "t": "payments"},
        ).scalars()
        assert list(granted) == ["INSERT", "SELECT"]


def test_print_sql_shows_what_would_run(anpr):
    code, out, err = anpr(
        "db", "grant-app-role", "anpr_app", "--print-sql", "--db", "postgresql+psycopg://o@h/records"
    )
    assert (code, err) == (0, [])
    assert out[0] == (
        'CREATE ROLE "anpr_app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;'
    )
    assert 'GRANT CONNECT ON DATABASE "records" TO "anpr_app";' in out
    assert 'REVOKE UPDATE ON "public".audit_log FROM "anpr_app";' in out
    assert 'REVOKE DELETE ON "public".challans FROM "anpr_app";' in out


def test_grant_app_role_on_sqlite_is_one_line(anpr, tmp_path):
    assert anpr("db", "grant-app-role", "anpr_app", "--db", f"sqlite:///{tmp_path / 'r.db'}") == (
        2,
        [],
        ["error: database roles are PostgreSQL's; a SQLite file has none (--db must be postgresql://...)"],
    )


def test_upgrade_says_the_revision(anpr, tmp_path):
    url = f"sqlite:///{tmp_path / 'records.db'}"
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert anpr("db", "upgrade", "--db", url) == (0, [f"records database {url} at revision {head}"], [])
