"""The rule engine on hand-built vehicle events: each rule's verdict and the measurements it quotes."""

from datetime import datetime, timedelta, timezone

import pytest

from anpr.types import Evidence, PlateRead, VehicleEvent
from challan.rules import REGISTRY, SiteRules, evaluate_all

PKT = timezone(timedelta(hours=5))
T0 = datetime(2026, 11, 20, 8, 0, 0, tzinfo=PKT)
ALL = frozenset({"OVER_SPEED", "RED_LIGHT", "STOP_LINE", "WRONG_WAY"})
SITE = SiteRules(site_id="LHR-REGAL-01", limit_kmh=60, tolerance_kmh=2, red_grace_s=0.3, enabled=ALL)
EVIDENCE = (Evidence("scene_at", "/x/at.jpg", "ab" * 32),)


def event(**changes) -> VehicleEvent:
    base = dict(
        site_id="LHR-REGAL-01",
        track_id=7,
        vehicle_type="car",
        first_seen=T0,
        last_seen=T0 + timedelta(seconds=4),
        plate=PlateRead("LEH5789", 0.9),
        speed_kmh=50.0,
        speed_method="calibrated-ground-plane",
        evidence=EVIDENCE,
    )
    return VehicleEvent(**(base | changes))


def red_crossing(into_s: float, **more) -> dict:
    onset = T0 + timedelta(seconds=2)
    return dict(
        crossed_stop_line_at=onset + timedelta(seconds=into_s),
        signal_state_at_crossing="red",
        red_onset_at=onset,
        amber_seconds=3.0,
        **more,
    )


def codes(e: VehicleEvent, site: SiteRules = SITE) -> list[str]:
    return [f.code for f in evaluate_all(e, site)]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"speed_kmh": 62.0}, []),  # at limit + tolerance: not over
        ({"speed_kmh": 62.1}, ["OVER_SPEED"]),
        ({"speed_kmh": None}, []),  # no measurement, no finding
        (red_crossing(0.3), []),  # within the grace period
        (red_crossing(0.31), ["RED_LIGHT"]),
        (red_crossing(2.4, speed_kmh=75.0), ["OVER_SPEED", "RED_LIGHT"]),
        (red_crossing(1.0, stopped_past_line_at=T0 + timedelta(seconds=4)), ["STOP_LINE"]),
        ({"crossed_stop_line_at": T0 + timedelta(seconds=1), "signal_state_at_crossing": "amber"}, []),
        ({"crossed_stop_line_at": T0 + timedelta(seconds=1), "signal_state_at_crossing": None}, []),
        ({"direction": "against"}, ["WRONG_WAY"]),
        ({"direction": "with"}, []),
    ],
)
def test_verdicts(changes, expected):
    assert codes(event(**changes)) == expected


def test_only_enabled_rules_run():
    site = SiteRules(site_id="X", limit_kmh=60, enabled=frozenset({"RED_LIGHT"}))
    assert codes(event(speed_kmh=90.0, direction="against", **red_crossing(1.0)), site) == ["RED_LIGHT"]
    assert codes(event(speed_kmh=90.0), SiteRules(site_id="X", limit_kmh=None, enabled=ALL)) == []


def test_findings_quote_their_measurements_and_carry_the_evidence():
    over, red = evaluate_all(event(**red_crossing(2.4, speed_kmh=78.24)), SITE)
    assert over.details == {
        "speed_kmh": 78.2,
        "limit_kmh": 60,
        "tolerance_kmh": 2,
        "method": "calibrated-ground-plane",
    }
    assert over.occurred_at == T0 + timedelta(seconds=4.4)  # measured at the stop line
    assert red.details["seconds_into_red"] == 2.4 and red.details["amber_seconds"] == 3.0
    assert red.details["red_onset_at"] == (T0 + timedelta(seconds=2)).isoformat()
    assert red.occurred_at == T0 + timedelta(seconds=4.4)
    assert over.evidence == EVIDENCE and red.evidence == EVIDENCE


def test_over_speed_without_a_crossing_happens_mid_track():
    (finding,) = evaluate_all(event(speed_kmh=80.0), SITE)
    assert finding.occurred_at == T0 + timedelta(seconds=2)


def test_the_registry_lists_each_rule_once_with_a_distinct_code():
    assert [rule.code for rule in REGISTRY] == ["OVER_SPEED", "RED_LIGHT", "STOP_LINE", "WRONG_WAY"]


def test_challan_rules_import_no_numpy_or_cv2():
    import subprocess
    import sys

    probe = "import sys, challan.rules; print(sorted(m for m in ('numpy', 'cv2') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_site_runs_every_rule_it_has_data_for_unless_its_file_names_them():
    from challan.rules import CODES, enabled_codes

    assert enabled_codes(None, []) == {"OVER_SPEED"}
    assert enabled_codes(None, ["signal"]) == {"OVER_SPEED", "RED_LIGHT"}  # STOP_LINE: off by default
    assert enabled_codes(None, ["signal", "flow"]) == set(CODES) - {"STOP_LINE"}
    assert enabled_codes(["WRONG_WAY"], []) == {"WRONG_WAY"}
    assert enabled_codes(["STOP_LINE", "RED_LIGHT"], ["signal"]) == {"STOP_LINE", "RED_LIGHT"}


def test_a_rule_the_registry_lacks_is_refused_with_the_known_ones():
    from anpr.errors import ConfigError
    from challan.rules import enabled_codes

    with pytest.raises(ConfigError, match=r"unknown rule NO_HELMET \(known: OVER_SPEED, RED_LIGHT"):
        enabled_codes(["OVER_SPEED", "NO_HELMET"], [])
