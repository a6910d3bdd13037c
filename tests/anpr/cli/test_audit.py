"""`anpr audit verify` in-process through the same guard as the installed command, on SQLite and
PostgreSQL: one line and exit 0 on an intact log, the first broken link and exit 6 on a tampered one."""

from __future__ import annotations

import functools
import json

import pytest
import sqlalchemy as sa
import typer

from anpr.cli import cli
from anpr.cli.common import run_guarded
from challan import lifecycle
from tests.challan.conftest import record


@pytest.fixture
def anpr(capsys):
    """Run `anpr ARGS...`: (exit code, stdout lines, stderr lines)."""
    command = typer.main.get_command(cli)

    def run(*args: str):
        capsys.readouterr()
        code = run_guarded(functools.partial(command.main, args=list(args), prog_name="anpr"))
        out, err = capsys.readouterr()
        return code, out.splitlines(), err.splitlines()

    return run


@pytest.fixture
def issued(session, settings, images):
    violation = record(session, settings, images)
    challan = lifecycle.approve_violation(
        session, violation_id=violation.id, officer="insp.sana", settings=settings
    )
    session.commit()
    return challan


def tamper(session, statement: str) -> None:
    """As someone who got round the triggers: a superuser on PostgreSQL, the file's holder on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        for (name,) in session.exec(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
            session.exec(sa.text(f'DROP TRIGGER "{name}"'))
    session.exec(sa.text(statement))
    session.commit()


def test_an_intact_log_is_one_line_and_exit_0(anpr, db_url, issued):
    code, out, err = anpr("audit", "verify", "--db", db_url)
    assert (code, err) == (0, [])
    [line] = out
    head = line.split("head ")[1].split(";")[0]
    assert line == f"audit log intact: 6 entries chained, head {head}; 2 records agree with it"
    assert anpr("audit", "verify", "--db", db_url, "--head", head) == (0, out, [])
    code, out, _ = anpr("audit", "verify", "--db", db_url, "--json")
    assert (code, json.loads(out[0])) == (
        0,
        {"intact": True, "entries": 6, "head": head, "rows": 2, "broken": None, "unexplained": []},
    )


def test_a_rewritten_entry_is_named_and_exit_6(anpr, db_url, session, issued):
    tamper(session, "UPDATE audit_log SET actor = 'nobody' WHERE id = 4")
    assert anpr("audit", "verify", "--db", db_url) == (
        6,
        [],
        ["error: entry 4 (link 4) was changed after it was written"],
    )


def test_every_row_no_entry_explains_is_named(anpr, db_url, session, issued):
    tamper(session, "UPDATE challans SET fine_pkr = 1")
    tamper(session, "UPDATE violations SET status = 'cancelled'")
    assert anpr("audit", "verify", "--db", db_url) == (
        6,
        [],
        [
            'error: violation 1: status is "cancelled", but the audit log last recorded "issued"',
            "error: challan 1: fine_pkr is 1, but the audit log last recorded 5000",
        ],
    )


def test_a_head_the_chain_lost_is_named(anpr, db_url, session, issued):
    code, out, _ = anpr("audit", "verify", "--db", db_url)
    head = out[0].split("head ")[1].split(";")[0]
    tamper(
        session,
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, changes) VALUES "
        "('2026-03-16 05:00:00', 'x', 'probe', 'sites', 'x', '{}')",
    )
    code, out, err = anpr("audit", "verify", "--db", db_url, "--head", "f" * 64)
    assert (code, out) == (6, [])
    assert err == [
        f"error: the chain no longer holds head {'f' * 64}: entries after it were removed or rewritten"
    ]
    assert anpr("audit", "verify", "--db", db_url, "--head", head) == (
        6,
        [],
        ["error: entry 7 is not in the chain: it was written around the application"],
    )


def test_a_missing_sqlite_file_is_an_error_and_nothing_is_created(anpr, tmp_path):
    missing = tmp_path / "nowhere" / "records.db"
    code, out, err = anpr("audit", "verify", "--db", f"sqlite:///{missing}")
    assert (code, out) == (3, [])
    assert err[0].startswith(f"error: no records database at {missing}")
    assert not missing.parent.exists()
