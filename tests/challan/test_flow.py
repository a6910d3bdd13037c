"""anpr flow: vehicles per site and interval from the sightings, by class, with mean and 85th
percentile speed and the flow per hour, on a real database."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from anpr.errors import InputError
from challan.flow import flow, parse_interval
from challan.models import Sighting, Site

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _seed(session):
    session.add(Site(id="A", name="Site A"))
    session.add(Site(id="B", name="Site B"))
    session.flush()
    rows = [  # site, minutes after 08:00, class, speed
        ("A", 1, "car", 40.0),
        ("A", 2, "car", 50.0),
        ("A", 3, "motorcycle", 60.0),
        ("A", 14, "bus", None),
        ("A", 16, "car", 70.0),
        ("B", 5, "truck", 30.0),
    ]
    for k, (site, minutes, kind, speed) in enumerate(rows):
        seen = T0 + timedelta(minutes=minutes)
        session.add(
            Sighting(
                site_id=site,
                track_id=k,
                first_seen=seen,
                last_seen=seen + timedelta(seconds=4),
                vehicle_type=kind,
                speed_kmh=speed,
            )
        )
    session.commit()


@pytest.fixture
def records(db_url):
    from challan.db import session_scope

    with session_scope(db_url) as session:
        _seed(session)
    return db_url


def test_vehicles_are_counted_per_site_and_clock_aligned_interval(records):
    from challan.db import session_scope

    with session_scope(records) as session:
        rows = list(flow(session, interval=timedelta(minutes=15)))
    assert [(r.site_id, r.start, r.vehicles) for r in rows] == [
        ("A", T0, 4),
        ("A", T0 + timedelta(minutes=15), 1),
        ("B", T0, 1),
    ]
    first = rows[0]
    assert first.by_class == {"bus": 1, "car": 2, "motorcycle": 1}
    assert first.mean_kmh == 50.0 and first.p85_kmh == 57.0  # over the three with a speed
    assert first.per_hour == 16.0
    assert set(first.to_json()) >= {"site_id", "start", "end", "vehicles", "by_class", "mean_kmh", "p85_kmh"}


def test_site_and_time_filters(records):
    from challan.db import session_scope

    with session_scope(records) as session:
        only_a = list(
            flow(session, interval=timedelta(hours=1), site_id="A", since=T0 + timedelta(minutes=10))
        )
    assert [(r.site_id, r.vehicles, r.by_class) for r in only_a] == [("A", 2, {"bus": 1, "car": 1})]


def test_intervals_are_read_as_people_write_them():
    assert parse_interval("15m") == timedelta(minutes=15) and parse_interval("1h") == timedelta(hours=1)
    assert parse_interval("30") == timedelta(minutes=30)
    for bad in ("fortnight", "10s", "48h"):
        with pytest.raises(InputError):
            parse_interval(bad)


def test_the_command_writes_json_lines_and_csv(records):
    from typer.testing import CliRunner

    from anpr.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["flow", "--db", records, "--json", "--interval", "15m"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["site_id"], r["vehicles"]) for r in lines] == [("A", 4), ("A", 1), ("B", 1)]
    result = runner.invoke(cli, ["flow", "--db", records, "--csv", "--site", "B"])
    out = result.stdout.splitlines()
    assert (
        result.exit_code == 0 and out[0].startswith("site_id,start,end,vehicles") and out[1].startswith("B,")
    )
