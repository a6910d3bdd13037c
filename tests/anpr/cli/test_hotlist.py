"""`anpr hotlist ...` and `anpr alerts list` run in-process through the same guard as the installed
command (exit codes, one-line errors), on SQLite and PostgreSQL."""

import functools
import json

import pytest
import typer

from anpr.cli import cli
from anpr.cli.common import run_guarded
from anpr.types import Candidate, PlateRead, VehicleEvent
from challan import alerts
from challan.settings import get_settings
from tests.challan.conftest import OFFENCE_AT

KEYS = [
    "id",
    "kind",
    "plate",
    "read",
    "match",
    "list",
    "reason",
    "site_id",
    "seen_at",
    "track_id",
    "evidence",
]


@pytest.fixture
def anpr(settings, monkeypatch, capsys):
    """Run `anpr ARGS... --db URL`; returns (exit code, stdout lines, stderr lines)."""
    monkeypatch.setenv("ANPR_EVIDENCE_DIR", str(settings.evidence_dir))
    get_settings.cache_clear()
    command = typer.main.get_command(cli)

    def run(*args: str):
        capsys.readouterr()
        argv = [*args, "--db", settings.database_url]
        code = run_guarded(functools.partial(command.main, args=argv, prog_name="anpr"))
        out, err = capsys.readouterr()
        return code, out.splitlines(), err.splitlines()

    yield run
    get_settings.cache_clear()


def test_plates_are_listed_relisted_and_removed(anpr):
    assert anpr("hotlist", "add", "leb-5789", "--list", "stolen", "--reason", "stolen 19 Nov") == (
        0,
        ["LEB5789 added on stolen"],
        [],
    )
    assert anpr("hotlist", "add", "LEB5789", "--list", "stolen", "--reason", "FIR 123/26")[1] == [
        "LEB5789 updated on stolen"
    ]
    assert anpr("hotlist", "add", "AWO138", "--list", "wanted", "--reason", "robbery")[0] == 0

    code, out, _ = anpr("hotlist", "list", "--json")
    assert code == 0
    entries = [json.loads(line) for line in out]
    assert [(e["plate"], e["list"], e["reason"]) for e in entries] == [
        ("LEB5789", "stolen", "FIR 123/26"),
        ("AWO138", "wanted", "robbery"),
    ]
    assert all(e["added_by"].startswith("cli:") and e["added_at"].endswith("Z") for e in entries)
    assert anpr("hotlist", "list", "--list", "wanted")[1][0].split()[:2] == ["AWO138", "wanted"]

    assert anpr("hotlist", "remove", "LEB5789") == (0, ["LEB5789 removed from stolen"], [])
    assert anpr("hotlist", "remove", "LEB5789", "--list", "stolen") == (
        3,
        [],
        ["error: plate LEB5789 is not on list stolen"],
    )
    assert [line.split()[0] for line in anpr("hotlist", "list")[1]] == ["AWO138"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--list", "defaulters", "--reason", "x"), "error: list 'defaulters' is built in (alert kind); "),
        (("--list", "Stolen Cars", "--reason", "x"), "error: list 'Stolen Cars' is not 2-32 lower-case"),
        (("--list", "stolen", "--reason", " "), "error: reason is empty (say why the plate is listed)"),
    ],
)
def test_a_bad_entry_is_one_line_and_exit_2(anpr, args, error):
    code, out, err = anpr("hotlist", "add", "LEB5789", *args)
    assert (code, out, len(err)) == (2, [], 1) and err[0].startswith(error)


def test_an_import_names_its_bad_line_and_changes_nothing(anpr, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("plate,list,reason\nLEB5789,stolen,stolen\nQ,stolen,x\n")
    good = tmp_path / "good.csv"
    good.write_text("LEB5789,stolen,stolen\nAWO138,wanted,robbery\n")

    assert anpr("hotlist", "import", str(bad)) == (
        2,
        [],
        [f"error: {bad} line 3: plate 'Q' is not 2-12 letters and digits (series + number, e.g. LEH5789)"],
    )
    assert anpr("hotlist", "list")[1] == []
    assert anpr("hotlist", "import", str(good), "--json")[1] == ['{"added": 2, "updated": 0, "unchanged": 0}']
    assert anpr("hotlist", "import", str(good))[1] == [f"imported {good}: 0 added, 0 updated, 2 unchanged"]


def test_alerts_are_listed_as_json_lines_and_as_a_table(anpr, session):
    assert anpr("alerts", "list", "--json") == (0, [], [])
    anpr("hotlist", "add", "LEB5789", "--list", "stolen", "--reason", "stolen 19 Nov")
    event = VehicleEvent(
        site_id="LHR-REGAL-01",
        track_id=7,
        vehicle_type="car",
        first_seen=OFFENCE_AT,
        last_seen=OFFENCE_AT,
        plate=PlateRead("LE85789", 0.8, (Candidate("LE85789", 0.8),)),
    )
    spotted = alerts.Spotted(event, OFFENCE_AT, "pk")
    alerts.store(session, spotted=spotted, raised=alerts.check(session, spotted))
    session.commit()

    code, out, _ = anpr("alerts", "list", "--json")
    assert code == 0 and [list(json.loads(line)) for line in out] == [KEYS]
    assert json.loads(out[0]) | {"id": 0} == {
        "id": 0,
        "kind": "stolen",
        "plate": "LEB5789",
        "read": "LE85789",
        "match": "fuzzy",
        "list": "stolen",
        "reason": "stolen 19 Nov",
        "site_id": "LHR-REGAL-01",
        "seen_at": "2026-03-14T12:42:09.400000Z",
        "track_id": 7,
        "evidence": [],
    }
    code, out, _ = anpr("alerts", "list", "--kind", "stolen")
    assert code == 0 and out[0].split()[:3] == ["ID", "KIND", "PLATE"]
    assert out[1].split()[1:5] == ["stolen", "LEB5789", "LE85789", "fuzzy"]
    assert "2026-03-14 17:42:09 PKT  LHR-REGAL-01 / 7: stolen 19 Nov" in out[1]
    assert anpr("alerts", "list", "--kind", "wanted")[1] == []
