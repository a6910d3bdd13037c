"""`anpr challan ...` and `anpr registry ...` run in-process through the same guard as the installed
command (exit codes, one-line errors), plus one run of the installed `anpr` itself."""

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from anpr.cli import cli
from anpr.cli.common import run_guarded
from challan import lifecycle
from challan.settings import get_settings
from tests.challan.conftest import OFFENCE_AT, record

ANPR = Path(sys.executable).with_name("anpr")
LIST_FIELDS = {
    "id",
    "number",
    "plate",
    "violation",
    "vehicle_type",
    "status",
    "fine_pkr",
    "occurred_at",
    "site",
}


@pytest.fixture
def anpr(settings, monkeypatch, capsys):
    """Run `anpr ARGS... --db URL`; returns (exit code, stdout lines, stderr lines)."""
    monkeypatch.setenv("ANPR_EVIDENCE_DIR", str(settings.evidence_dir))
    monkeypatch.setenv("ANPR_PUBLIC_URL", settings.public_url)
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


OFFICERS = {
    "insp.sana": ("Sana Tariq", "Inspector", "ETC-1042"),
    "insp.ali": ("Ali Raza", "Sub-Inspector", "ETC-2001"),
    "insp.bilal": ("Bilal Ahmed", "Traffic Warden", "TW-3310"),
    "insp.chand": ("Chand Bibi", "Inspector", "ETC-1077"),
}


def add_officers(session) -> None:
    from challan import users

    for username, (name, rank, badge) in OFFICERS.items():
        users.add_officer(session, username=username, password="review-pass-2026", role="officer", actor="t",
                          full_name=name, rank=rank, badge_number=badge)  # fmt: skip
    session.commit()


@pytest.fixture
def pending(session, settings, images):
    add_officers(session)
    a = record(session, settings, images, plate="LEH5780", track_id=1)
    b = record(
        session, settings, images, plate="RIA3210", track_id=2, code="OVER_SPEED", details={"speed_kmh": 81}
    )
    return a, b


def test_list_json_has_one_record_per_violation(anpr, pending):
    code, out, err = anpr("challan", "list", "--json")
    assert (code, err) == (0, [])
    records = [json.loads(line) for line in out]
    assert [r["id"] for r in records] == [v.id for v in pending]
    assert set(records[0]) >= LIST_FIELDS
    first = records[0]
    assert (first["number"], first["plate"], first["violation"], first["status"]) == (
        None,
        "LEH5780",
        "RED_LIGHT",
        "pending",
    )
    assert (first["vehicle_type"], first["fine_pkr"], first["site"]) == ("car", 5000, "lhr-mall-road-01")
    assert first["occurred_at"] == "2026-03-14T12:42:09.400000Z"


def test_approve_with_correction_then_list_and_show(anpr, pending):
    first = pending[0]
    code, out, err = anpr(
        "challan", "approve", str(first.id), "--officer", "insp.sana", "--plate", "LEH5789", "--json"
    )
    assert (code, err) == (0, [])
    issued = json.loads(out[0])
    assert (issued["status"], issued["plate"], issued["plate_read"], issued["fine_pkr"]) == (
        "issued",
        "LEH5789",
        "LEH5780",
        5000,
    )
    assert issued["number"].startswith("PB-") and len(issued["psid"]) == 18

    code, out, _ = anpr("challan", "list", "--status", "issued", "--json")
    assert [json.loads(line)["number"] for line in out] == [issued["number"]]
    code, out, _ = anpr("challan", "list", "--plate", "LEH5789")
    assert code == 0 and len(out) == 2 and issued["number"] in out[1]  # header + one row

    code, out, _ = anpr("challan", "show", issued["number"], "--json")
    detail = json.loads(out[0])
    assert (detail["id"], detail["corrected_plate"]) == (first.id, "LEH5789")
    assert [h["action"] for h in detail["history"]] == [
        "record",
        "correct_plate",
        "approve",
        "issue",
        "issue",
    ]
    assert {e["status"] for e in detail["evidence"]} == {"ok"}


def test_show_checks_the_read_against_the_registry_as_the_review_card_does(anpr, session, settings, images):
    """An officer working from the command line is told what the review card says: a read under the
    calibrated confidence, a registered vehicle of the other kind, a year the registry contradicts."""
    from challan import crud
    from tests.challan.web.conftest import OWNER

    registered = OWNER.model_copy(update={"plate": "LED6129", "registration_year": "2010"})
    crud.save_vehicle(session, data=registered, actor="test")
    session.commit()
    bike = record(session, settings, images, plate="LED6129", year="18", vehicle_type="motorcycle",
                  confidence=0.55, track_id=3)  # fmt: skip
    code, out, _ = anpr("challan", "show", str(bike.id), "--json")
    assert code == 0
    assert json.loads(out[0])["read_check"] == {
        "uncertain_read": True,
        "registered_class": "car",
        "class_conflict": True,
        "registered_year": "2010",
        "year_conflict": True,
    }


def test_an_unread_plate_says_so_and_is_approved_only_with_the_plate_typed(anpr, session, settings, images):
    add_officers(session)
    unread = record(session, settings, images, plate="", confidence=0.0056, track_id=4)
    code, out, _ = anpr("challan", "show", str(unread.id))
    assert code == 0
    assert "plate: - (plate unreadable: approve only with --plate, or reject)" in out
    assert "plate_read: - (plate unreadable)" in out
    code, out, _ = anpr("challan", "list")
    assert "unreadable" in out[1]
    code, _, err = anpr("challan", "approve", str(unread.id), "--officer", "insp.sana")
    assert code != 0 and err == [
        f"error: violation {unread.id} has no plate read; give the plate with --plate"
    ]
    code, out, _ = anpr("challan", "approve", str(unread.id), "--officer", "insp.sana", "--plate", "LEH5789")
    assert code == 0 and "to LEH5789" in out[0]
    code, out, _ = anpr("challan", "show", str(unread.id))
    assert "plate: LEH5789" in out and "plate_read: - (plate unreadable)" in out


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (("challan", "approve", "99", "--officer", "insp.bilal"), 3, "error: no violation with id 99"),
        (("challan", "show", "PB-0000", "--json"), 3, "error: no challan numbered PB-0000"),
        (("challan", "pay", "PB-0000", "--reference", "R"), 3, "error: no challan numbered PB-0000"),
        (
            ("challan", "list", "--status", "done"),
            2,
            "error: --status 'done' is not one of pending, approved",
        ),
        (
            ("challan", "reject", "1", "--officer", "insp.bilal", "--reason", " "),
            2,
            "error: reason must not be empty",
        ),
        (("challan", "pdf", "1", "-o", "/tmp/never.pdf"), 4, "error: violation 1 is pending; only an issued"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(anpr, pending, args, exit_code, message):
    code, out, err = anpr(*args)
    assert code == exit_code
    assert len(err) == 1 and err[0].startswith(message)
    assert out == []


def test_double_approve_exits_non_zero(anpr, pending):
    assert anpr("challan", "approve", str(pending[0].id), "--officer", "insp.ali")[0] == 0
    code, _, err = anpr("challan", "approve", str(pending[0].id), "--officer", "insp.bilal")
    assert code == 4
    assert len(err) == 1 and "is issued; only a pending violation can be approved" in err[0]


def test_reject(anpr, pending):
    code, out, _ = anpr(
        "challan",
        "reject",
        str(pending[1].id),
        "--officer",
        "insp.bilal",
        "--reason",
        "radar fault",
        "--json",
    )
    assert code == 0 and json.loads(out[0])["status"] == "rejected"


def test_pay_contest_uphold_cancel(anpr, pending):
    numbers = []
    for violation in pending:
        code, out, _ = anpr("challan", "approve", str(violation.id), "--officer", "insp.ali", "--json")
        numbers.append(json.loads(out[0])["number"])
    paid, contested = numbers

    def status_after(*args):
        code, out, err = anpr(*args, "--json")
        assert (code, err) == (0, [])
        return json.loads(out[0])["status"]

    assert status_after("challan", "pay", paid, "--reference", "HBL-1") == "paid"
    assert status_after("challan", "contest", contested, "--reason", "not my car") == "contested"
    code, _, err = anpr("challan", "pay", contested, "--reference", "HBL-2")
    assert code == 4 and "is contested" in err[0]
    assert (
        status_after("challan", "cancel", contested, "--officer", "insp.chand", "--reason", "misread")
        == "cancelled"
    )
    code, _, err = anpr("challan", "uphold", contested, "--officer", "insp.chand", "--reason", "x")
    assert code == 4 and "only a contested challan can be upheld" in err[0]


def test_contest_after_the_window_is_refused(anpr, pending, session, settings):
    issued = lifecycle.approve_violation(
        session, violation_id=pending[0].id, officer="A", settings=settings, now=OFFENCE_AT
    )
    session.commit()  # issued 14 Mar 2026: the window closed on 21 Mar, long before today
    code, out, err = anpr("challan", "contest", issued.number, "--reason", "emailed on 30 Mar")
    assert (code, out, err) == (4, [], ["error: The contest window closed on 21 Mar 2026"])
    code, out, _ = anpr("challan", "show", issued.number, "--json")
    assert json.loads(out[0])["status"] == "issued"


def test_pdf_command_writes_the_notice(anpr, pending, tmp_path):
    anpr("challan", "approve", str(pending[0].id), "--officer", "insp.ali")
    code, out, _ = anpr(
        "challan", "pdf", str(pending[0].id), "-o", str(tmp_path / "out" / "c.pdf"), "--public"
    )
    assert code == 0 and out[0].startswith("wrote ")
    assert (tmp_path / "out" / "c.pdf").read_bytes().startswith(b"%PDF-")


def test_registry_import_and_show(anpr, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(
        "plate,owner_name,cnic,vehicle_class\nLEH5789,A Khan,35202-1234567-1,car\n", encoding="utf-8"
    )
    code, out, _ = anpr("registry", "import", str(good), "--json")
    assert (code, json.loads(out[0])) == (0, {"created": 1, "updated": 0, "unchanged": 0})
    code, out, _ = anpr("registry", "show", "leh5789", "--json")
    assert json.loads(out[0])["owner_cnic"] == "35202-1234567-1"
    bad = tmp_path / "bad.csv"
    bad.write_text("plate,owner_name,cnic,vehicle_class\nLEA1,B,1,car\n", encoding="utf-8")
    code, _, err = anpr("registry", "import", str(bad))
    assert code == 2 and len(err) == 1 and "bad.csv line 2: CNIC '1'" in err[0]


@pytest.mark.skipif(not ANPR.exists(), reason="the anpr command is not installed in this environment")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_installed_command_prints_one_line_without_traceback(settings, session):
    add_officers(session)
    done = subprocess.run(
        [str(ANPR), "challan", "approve", "7", "--officer", "insp.ali", "--db", settings.database_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    assert done.stderr == "error: no violation with id 7\n"
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "args",
    [("challan", "list"), ("challan", "show", "1"), ("registry", "show", "LEH5789"), ("officer", "list")],
)
def test_a_command_on_records_never_creates_a_database(tmp_path, args):
    """`anpr challan list --db sqlite:///missing/dir/x.db` is an error, and no file or folder appears."""
    missing = tmp_path / "missing" / "dir" / "x.db"
    result = subprocess.run(
        [str(ANPR), *args, "--db", f"sqlite:///{missing}"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: no records database at {missing} (nothing was created): check --db, or record into it"
        " first with 'anpr process' or 'anpr demo'"
    ]
    assert not (tmp_path / "missing").exists()
