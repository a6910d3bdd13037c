"""The hub load test (tests/load/hub.py) at a tiny scale, for real: `python -m tests.load.hub` starts
`anpr serve` on loopback against a schema of its own in the test PostgreSQL, three cameras post
events with evidence for three seconds, and the report must have its shape and account for every
event; the schema, kept for the check, must hold each event exactly once. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg
import pytest

from tests.load.hub import NO_ALERTS
from tests.load.hub_records import libpq
from tests.load.hub_traffic import ROOT

RUN_KEYS = {
    "cameras",
    "nominal_per_s",
    "offered_per_s",
    "ingested_per_s",
    "events",
    "ingest_ms",
    "wait_ms",
    "alert_ms",
    "alert_raised_ms",
    "alerts",
    "alert_note",
    "hub_connections",
    "audit_chain",
    "errors",
    "error_kinds",
    "cpu_s",
    "hub_cpu_ms_per_event",
    "postgres_cpu_ms_per_event",
    "exactly_once",
    "check",
}


def load_test(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.load.hub", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow  # the hub's worker processes
def test_tiny_run_stores_every_event_once_and_reports_it(postgres_url, redis_url, tmp_path):
    out = tmp_path / "hub.json"
    done = load_test(
        *("--cameras", "3", "--duration", "3", "--drain", "30", "--interval", "0.5"),
        *("--hotlisted", "0.3", "--hotlist-size", "50", "--workers", "2"),
        *("--db", postgres_url, "--redis", redis_url, "--out", str(out), "--keep"),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    schema = report["schema"]
    try:
        assert report["settings"]["cameras"] == [3] and report["settings"]["redis"] is True
        [run] = report["runs"]
        assert set(run) == RUN_KEYS
        events = run["events"]
        assert run["cameras"] == 3 and events["due"] > 0
        # Every vehicle was posted and stored once: nothing left, refused, cut off or stored twice.
        assert events["posted"] == events["stored"] == events["due"]
        assert (events["left"], events["refused"], events["unanswered"], events["duplicates"]) == (0, 0, 0, 0)
        assert run["errors"] == 0 and run["error_kinds"] == {}
        assert run["exactly_once"] is True
        assert run["ingest_ms"]["n"] == events["stored"] and run["wait_ms"]["n"] == events["posted"]
        assert run["ingest_ms"]["p50"] <= run["ingest_ms"]["p99"] <= run["ingest_ms"]["max"]
        alerts = run["alerts"]
        assert alerts["hotlisted_stored"] > 0  # 30 % of the plates: some were on the hotlist
        if alerts["raised"]:  # the hub's ingest raises alerts: one per hotlisted event, timed
            assert alerts["raised"] == alerts["hotlisted_stored"] == run["alert_ms"]["n"]
            assert run["alert_note"] is None
        else:
            assert run["alert_ms"] is None and run["alert_note"] == NO_ALERTS
        table = out.with_suffix(".txt").read_text()
        assert table.splitlines()[0].split("|")[0].strip() == "cameras"
        assert table.splitlines()[2].split("|")[0].strip() == "3"
        assert table in done.stdout

        # The records, looked at independently: the events the report counts, each once, with a
        # receipt and its evidence files named in it.
        with psycopg.connect(libpq(postgres_url), options=f"-csearch_path={schema}") as connection:
            stored, distinct, files = connection.execute(
                "SELECT count(*), count(DISTINCT (site_id, track_id, first_seen)),"
                " sum(json_array_length((data::json)->'evidence')) FROM events"
            ).fetchone()
            receipts = connection.execute("SELECT count(*) FROM ingest_receipts").fetchone()[0]
            cameras = connection.execute("SELECT count(*) FROM cameras").fetchone()[0]
        warm_up = stored - events["stored"]  # the hub's first posts, before the figures
        assert distinct == stored == receipts and 0 < warm_up <= stored
        assert files >= 2 * stored  # a scene and a plate close-up at least, each
        assert cameras == 3
    finally:
        with psycopg.connect(libpq(postgres_url), autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.mark.slow  # the hub's worker processes
def test_without_keep_the_schema_is_dropped(postgres_url, tmp_path):
    out = tmp_path / "hub.json"
    done = load_test(
        *("--cameras", "1", "--duration", "1", "--interval", "0.5", "--hotlist-size", "0"),
        *("--db", postgres_url, "--workers", "1", "--out", str(out)),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    schema = json.loads(out.read_text())["schema"]
    assert schema.startswith("anpr_load_")
    with psycopg.connect(libpq(postgres_url)) as connection:
        left = connection.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()[0]
    assert left == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--cameras", "0"), "each camera count must be 1 to 5000"),
        (("--cameras", "50,lots"), "is not a comma-separated list of numbers"),
        (("--duration", "3600"), "3600 is not within 1 to 600"),
        (("--db", "sqlite:///hub.db"), "--db must be PostgreSQL"),
        (("--db", "postgresql+psycopg://postgres@127.0.0.1:1/test"), "the database is unreachable"),
    ],
)
def test_bad_input_is_one_line_and_a_failing_exit(args, message):
    done = load_test(*args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].count(message) == 1
