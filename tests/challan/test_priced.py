"""Every violation the engine raises by default can be priced: the shipped schedule has an amount for
each rule on by default and every vehicle class, a schedule that lacks one is refused when it loads
(one line), and STOP_LINE, which the Punjab schedule sets no fine for, runs only where a site names it."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from anpr.errors import ConfigError
from anpr.types import VehicleEvent
from challan.fines import FineConfig, load_fines, offence_day, require_priced
from challan.rules import CODES, DEFAULT_CODES, SiteRules, enabled_codes, evaluate_all
from challan.settings import DEFAULT_FINES

NOV_2025 = date(2025, 11, 26)
TODAY = offence_day(datetime.now(UTC))


@pytest.mark.parametrize("day", [NOV_2025, TODAY], ids=["first-day", "today"])
def test_the_shipped_schedule_prices_every_default_rule_for_every_class(day):
    fines = load_fines(DEFAULT_FINES)
    assert set(fines.fined_classes()) == set(fines.classes) - {"large"}  # a heading, by engine size
    priced = {
        (code, cls): fines.fine_for(code=code, vehicle_class=cls, day=day).amount_pkr
        for code in DEFAULT_CODES
        for cls in fines.fined_classes()
    }
    assert len(priced) == len(DEFAULT_CODES) * 7 and all(amount >= 2000 for amount in priced.values())
    assert priced["OVER_SPEED", "rickshaw"] == 3000 and priced["RED_LIGHT", "commercial"] == 15000


@pytest.mark.parametrize(("camera_type", "fined_as"), [("bus", "public-service"), ("truck", "commercial")])
def test_a_bus_or_truck_the_registry_does_not_know_is_priced_by_its_class(camera_type, fined_as):
    fines = load_fines(DEFAULT_FINES)
    for code in DEFAULT_CODES:
        fine = fines.fine_for(code=code, vehicle_class=camera_type, day=TODAY)
        assert (fine.vehicle_class, fine.amount_pkr) == (fined_as, 15000)


def test_stop_line_is_off_by_default_and_runs_where_a_site_names_it():
    assert set(DEFAULT_CODES) == set(CODES) - {"STOP_LINE"}
    t0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    stopped_past_the_line_on_red = VehicleEvent(
        site_id="S",
        track_id=7,
        vehicle_type="car",
        first_seen=t0,
        last_seen=t0 + timedelta(seconds=6),
        crossed_stop_line_at=t0 + timedelta(seconds=3),
        signal_state_at_crossing="red",
        red_onset_at=t0 + timedelta(seconds=1),
        stopped_past_line_at=t0 + timedelta(seconds=4),
    )

    def findings(rules):
        site = SiteRules(site_id="S", enabled=enabled_codes(rules, {"signal", "flow"}))
        return [f.code for f in evaluate_all(stopped_past_the_line_on_red, site)]

    assert findings(None) == []
    assert findings(["RED_LIGHT", "STOP_LINE"]) == ["STOP_LINE"]


def _write(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(DEFAULT_FINES.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "fines.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_a_schedule_without_an_amount_for_a_default_rule_is_refused_in_one_line(tmp_path):
    def drop_rickshaw(raw):
        del raw["schedules"][0]["fines"]["OVER_SPEED"]["rickshaw"]
        del raw["schedules"][0]["fines"]["WRONG_WAY"]["commercial"]

    with pytest.raises(ConfigError) as caught:
        load_fines(_write(tmp_path, drop_rickshaw))
    message = str(caught.value)
    assert "punjab-2025-11 has no amount for OVER_SPEED by class 'rickshaw' (and 1 more)" in message
    assert "runs by default" in message and "\n" not in message


def test_a_later_schedule_must_price_them_too_and_an_earlier_one_need_not():
    raw = yaml.safe_load(DEFAULT_FINES.read_text(encoding="utf-8"))
    later = dict(raw["schedules"][0], id="punjab-2099", effective_from=date(2099, 7, 1))
    later["fines"] = {code: amounts for code, amounts in later["fines"].items() if code != "RED_LIGHT"}
    config = FineConfig.model_validate(raw | {"schedules": [*raw["schedules"], later]})

    # Checked ahead of its start and once in force; the 2021 one (RED_LIGHT by car only) is past.
    for today in (NOV_2025, date(2099, 7, 1)):
        with pytest.raises(
            ConfigError, match="punjab-2099 has no amount for RED_LIGHT by class 'motorcycle'"
        ):
            require_priced(config, "fines.yaml", today=today)
    require_priced(load_fines(DEFAULT_FINES), "fines.yaml", today=NOV_2025)
