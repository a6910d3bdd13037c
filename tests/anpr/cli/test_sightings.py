"""`anpr sightings purge` run in-process through the same guard as the installed command (exit
codes, one-line errors), on SQLite and PostgreSQL with real evidence files."""

import functools
import json

import pytest
import typer
from sqlmodel import select

from anpr.cli import cli
from anpr.cli.common import run_guarded
from challan.models import Event, Sighting
from tests.challan.test_retention import HOUR, file_of, seen


@pytest.fixture
def anpr(settings, monkeypatch, capsys):
    """Run `anpr ARGS... --db URL` with the test's evidence folder; (exit code, stdout, stderr)."""
    monkeypatch.setenv("ANPR_EVIDENCE_DIR", str(settings.evidence_dir))
    command = typer.main.get_command(cli)

    def run(*args: str):
        capsys.readouterr()
        argv = [*args, "--db", settings.database_url]
        code = run_guarded(functools.partial(command.main, args=argv, prog_name="anpr"))
        out, err = capsys.readouterr()
        return code, out.splitlines(), err.splitlines()

    return run


def test_purge_lets_the_innocent_go_and_a_dry_run_only_counts(anpr, session, settings):
    gone = seen(session, settings, 1, ago=4 * 24 * HOUR)
    seen(session, settings, 2, ago=4 * 24 * HOUR, findings=True)
    seen(session, settings, 3, ago=HOUR)

    code, out, err = anpr("sightings", "purge", "--dry-run", "--json")
    assert (code, err) == (0, [])
    counted = json.loads(out[0])
    assert {
        k: counted[k] for k in ("retention_hours", "dry_run", "sightings", "events", "files_deleted")
    } == {
        "retention_hours": 72.0,
        "dry_run": True,
        "sightings": 1,
        "events": 1,
        "files_deleted": 1,
    }
    assert file_of(settings, gone).exists()

    code, out, err = anpr("sightings", "purge")
    assert (code, err) == (0, [])
    [line] = out
    assert line.startswith(
        "purged 1 sightings and redacted 1 events of vehicles with no violation and no alert"
    )
    assert line.endswith("(retention 72 h); deleted 1 evidence files (0 kept, 0 already gone)")
    session.expire_all()
    assert sorted(s.track_id for s in session.exec(select(Sighting))) == [2, 3]
    assert session.exec(select(Event).where(Event.track_id == 1)).one().plate_text == ""
    assert not file_of(settings, gone).exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "soon",
            "error: ANPR_SIGHTING_RETENTION: Input should be a valid number, unable to parse string as a"
            " number",
        ),
        ("-3", "error: ANPR_SIGHTING_RETENTION: Input should be greater than or equal to 0"),
        (
            "2",
            "error: ANPR_SIGHTING_RETENTION=2: give at least 12 hours (the cloned-plate check looks back"
            " 12 h), or 0 to keep sightings for ever",
        ),
    ],
)
def test_a_retention_that_is_no_number_of_hours_is_one_line(
    anpr, session, settings, monkeypatch, value, message
):
    seen(session, settings, 1, ago=4 * 24 * HOUR)
    monkeypatch.setenv("ANPR_SIGHTING_RETENTION", value)
    assert anpr("sightings", "purge") == (2, [], [message])
    session.expire_all()
    assert len(session.exec(select(Sighting)).all()) == 1


def test_a_retention_of_0_keeps_everything(anpr, session, settings, monkeypatch):
    seen(session, settings, 1, ago=400 * 24 * HOUR)
    monkeypatch.setenv("ANPR_SIGHTING_RETENTION", "0")
    assert anpr("sightings", "purge") == (
        0,
        ["the retention is off (ANPR_SIGHTING_RETENTION=0): nothing is purged"],
        [],
    )
    code, out, _ = anpr("sightings", "purge", "--json")
    assert json.loads(out[0])["retention_hours"] is None and json.loads(out[0])["sightings"] == 0
    session.expire_all()
    assert len(session.exec(select(Sighting)).all()) == 1


def test_a_database_that_is_not_there_is_one_line(tmp_path, capsys):
    command = typer.main.get_command(cli)
    missing = f"sqlite:///{tmp_path / 'nowhere' / 'records.db'}"
    code = run_guarded(
        functools.partial(command.main, args=["sightings", "purge", "--db", missing], prog_name="anpr")
    )
    _, err = capsys.readouterr()
    assert code != 0 and len(err.splitlines()) == 1 and "no records database at" in err
    assert not (tmp_path / "nowhere").exists()
