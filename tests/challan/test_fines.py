from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from anpr.errors import ConfigError
from challan.errors import FineError
from challan.fines import load_fines, offence_day
from challan.settings import DEFAULT_FINES

NOV_2025 = date(2025, 11, 26)


@pytest.fixture(scope="module")
def fines():
    return load_fines(DEFAULT_FINES)


@pytest.mark.parametrize(
    ("code", "vehicle_class", "amount"),
    [
        ("RED_LIGHT", "motorcycle", 2000),
        ("RED_LIGHT", "rickshaw", 3000),
        ("RED_LIGHT", "car", 5000),
        ("RED_LIGHT", "large-upto-2000cc", 10000),
        ("RED_LIGHT", "large-over-2000cc", 15000),
        ("OVER_SPEED", "motorcycle", 2000),
        ("OVER_SPEED", "car", 5000),
        ("WRONG_WAY", "car", 5000),
        ("WRONG_WAY", "large-over-2000cc", 10000),  # no amount of its own: the parent class's
        ("WRONG_WAY", "public-service", 15000),
        ("LANE", "car", 3000),
        ("LANE", "commercial", 15000),
        ("ZEBRA_CROSSING", "large", 8000),
        ("NO_HELMET", "motorcycle", 2000),
    ],
)
def test_november_2025_schedule(fines, code, vehicle_class, amount):
    fine = fines.fine_for(code=code, vehicle_class=vehicle_class, day=NOV_2025)
    assert (fine.amount_pkr, fine.schedule.id) == (amount, "punjab-2025-11")


def test_schedule_in_force_on_the_offence_day_decides(fines):
    before = fines.fine_for(code="RED_LIGHT", vehicle_class="car", day=date(2025, 11, 25))
    after = fines.fine_for(code="RED_LIGHT", vehicle_class="car", day=date(2025, 11, 26))
    assert (before.amount_pkr, before.schedule.id) == (750, "punjab-2021")
    assert (after.amount_pkr, after.schedule.id) == (5000, "punjab-2025-11")


def test_offence_day_is_the_day_in_pakistan():
    # 19:30 UTC on the 25th is 00:30 on the 26th in Lahore: the new schedule applies.
    assert offence_day(datetime(2025, 11, 25, 19, 30, tzinfo=UTC)) == date(2025, 11, 26)
    assert offence_day(datetime(2025, 11, 25, 18, 59, tzinfo=UTC)) == date(2025, 11, 25)


def test_shipped_schedule_names_its_source_and_start(fines):
    current = next(s for s in fines.schedules if s.id == "punjab-2025-11")
    assert current.effective_from == NOV_2025
    assert "Amendment" in current.title and "2025-11-26" in current.source
    assert fines.violations["RED_LIGHT"].urdu


@pytest.mark.parametrize(
    ("code", "vehicle_class", "day", "expected"),
    [
        ("LANE", "large-over-2000cc", NOV_2025, "no amount for LANE by class 'large-over-2000cc'"),
        ("RED_LIGHT", "large", NOV_2025, "no amount for RED_LIGHT by class 'large'"),  # by engine size
        ("STOP_LINE", "car", NOV_2025, "no amount for STOP_LINE"),
        ("RED_LIGHT", "motorcycle", date(2024, 1, 1), "punjab-2021"),  # unknown 2021 figure: absent
        ("RED_LIGHT", "unknown", NOV_2025, "vehicle class 'unknown' is not in the fine schedule"),
        ("PARKING", "car", NOV_2025, "violation code 'PARKING' is not in the fine schedule"),
    ],
)
def test_missing_amounts_are_errors_not_guesses(fines, code, vehicle_class, day, expected):
    with pytest.raises(FineError) as caught:
        fines.fine_for(code=code, vehicle_class=vehicle_class, day=day)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def _write(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(DEFAULT_FINES.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "fines.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_schedule_with_a_class_removed_refuses_lookups_for_it(tmp_path):
    def drop_car(raw):  # LANE: no rule raises it, so the schedule still loads without it
        del raw["schedules"][0]["fines"]["LANE"]["car"]

    fines = load_fines(_write(tmp_path, drop_car))
    assert fines.fine_for(code="LANE", vehicle_class="rickshaw", day=NOV_2025).amount_pkr == 3000
    with pytest.raises(FineError, match="no amount for LANE by class 'car'"):
        fines.fine_for(code="LANE", vehicle_class="car", day=NOV_2025)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda raw: raw["schedules"][0]["fines"]["LANE"].update({"tanker": 9000}), "class 'tanker'"),
        (lambda raw: raw["schedules"][0]["fines"].update({"PARKING": {"car": 500}}), "violation 'PARKING'"),
        (lambda raw: raw["schedules"][0]["fines"]["LANE"].update({"car": -5}), "schedules.0.fines.LANE.car"),
        (lambda raw: raw.update({"surprise": 1}), "surprise"),
        (lambda raw: raw["classes"]["car"].update({"parent": "lorry"}), "parent 'lorry'"),
        (lambda raw: raw["camera_types"].update({"van": "minibus"}), "camera_types: van: 'minibus'"),
    ],
)
def test_malformed_schedule_is_a_config_error_naming_the_key(tmp_path, edit, expected):
    with pytest.raises(ConfigError) as caught:
        load_fines(_write(tmp_path, edit))
    assert expected in str(caught.value)


def test_missing_schedule_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_fines(tmp_path / "nope.yaml")
