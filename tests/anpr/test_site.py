"""The site file: the sample sites load; a malformed one is a one-line error naming the key."""

import subprocess
import sys
from pathlib import Path

import pytest

from anpr.errors import ConfigError
from anpr.site import load_site
from anpr.weights import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "sample_videos"
ANPR = str(Path(sys.executable).with_name("anpr"))

GOOD = """\
site: {id: LHR-REGAL-01, name: "Mall Road / Regal Chowk, Lahore"}
camera: {start_time: "2026-11-20T08:00:00+05:00"}
calibration:
  image: [[100, 700], [800, 700], [600, 100], [300, 100]]
  world: [[0, 0], [7.0, 0], [7.0, 30.0], [0, 30.0]]
speed: {limit_kmh: 60}
signal: {stop_line: [[150, 600], [750, 600]], phases: data/signal.csv}
"""


@pytest.fixture
def site_dir(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "signal.csv").write_text(
        "time,state\n0,green\n3.0,amber\n2026-11-20T08:00:05.5+05:00,red\n"
    )
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "site.yaml"
    path.write_text(text)
    return path


def test_a_good_site_loads_with_paths_relative_to_it(site_dir):
    site = load_site(write(site_dir, GOOD))
    assert site.id == "LHR-REGAL-01" and site.config.speed.limit_kmh == 60
    assert [(p.start_s, p.state) for p in site.phases] == [(0.0, "green"), (3.0, "amber"), (5.5, "red")]
    assert site.config.available_data() == {"signal"} and site.config.rules is None
    assert site.start_time.utcoffset().total_seconds() == 5 * 3600


@pytest.mark.parametrize("name", ["regal-chowk", "canal-road"])
def test_the_sample_sites_load(name):
    site = load_site(SAMPLES / f"{name}.yaml")
    assert site.config.road.flow == (0.0, -1.0)
    assert (site.phases is not None) != (site.config.signal.light_region is not None)


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (("speed: {limit_kmh: 60}", "speed: {limit_kmh: fast}"), "speed.limit_kmh", "valid number"),
        (("speed: {limit_kmh: 60}", "speed: {limit_kmh: -5}"), "speed.limit_kmh", "greater than 0"),
        (("speed: {limit_kmh: 60}", "speed: {limit: 60}"), "speed.limit_kmh", "required key is missing"),
        (("speed: {limit_kmh: 60}", "speed: {limit_kmh: 60, radr: r.csv}"), "speed.radr", "unknown key"),
        (("+05:00", ""), "camera.start_time", "UTC offset"),
        (("[300, 100]]\n", "[300, 100], [1, 1]]\n"), "calibration.image", "at most 4"),
        (
            ("[[100, 700], [800, 700], [600, 100], [300, 100]]", "[[1, 1], [2, 2], [3, 3], [4, 4]]"),
            "calibration",
            "collinear",
        ),
        (
            ("signal: {stop_line: [[150, 600], [750, 600]]", "signal: {stop_line: [[150, 600]]"),
            "signal.stop_line",
            "item 2 is missing",
        ),
        (("site: {id: LHR-REGAL-01", "site: {id: ''"), "site.id", "at least 1"),
        (('Lahore"}', 'Lahore", plate_region: pakistan}'), "site.plate_region", "'pakistan' is not one of"),
    ],
)
def test_a_malformed_site_names_the_key(site_dir, change, key, problem):
    path = write(site_dir, GOOD.replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_site(path)
    message = str(caught.value)
    assert f"key '{key}'" in message and problem in message and "\n" not in message
    assert message.startswith(str(path))


@pytest.mark.parametrize(
    ("csv_text", "problem"),
    [
        ("time,state\n0,green\n3,blue\n", "signal.csv:3: state 'blue'"),
        ("when,state\n0,green\n", "missing column(s) time"),
        ("time,state\nsoon,red\n", "time 'soon' is neither"),
        ("time,state\n", "no phases"),
    ],
)
def test_a_malformed_phase_file_names_the_line(site_dir, csv_text, problem):
    (site_dir / "data" / "signal.csv").write_text(csv_text)
    with pytest.raises(ConfigError) as caught:
        load_site(write(site_dir, GOOD))
    assert problem in str(caught.value)


def test_not_yaml_and_not_a_mapping_and_missing(site_dir):
    for text, problem in (("site: [unclosed", "not valid YAML"), ("- a\n- b\n", "expected a mapping")):
        with pytest.raises(ConfigError, match=problem):
            load_site(write(site_dir, text))
    with pytest.raises(ConfigError, match="site file not found"):
        load_site(site_dir / "nope.yaml")


def test_radar_file_loads_with_lanes(site_dir):
    (site_dir / "radar.csv").write_text("time,speed_kmh,lane\n1.5,72.4,2\n0.5,40,\n")
    site = load_site(
        write(site_dir, GOOD.replace("speed: {limit_kmh: 60}", "speed: {limit_kmh: 60, radar: radar.csv}"))
    )
    assert [(r.time_s, r.speed_kmh, r.lane) for r in site.radar] == [(0.5, 40.0, None), (1.5, 72.4, 2)]


def test_the_cli_prints_one_line_naming_the_key(site_dir):
    path = write(site_dir, GOOD.replace("speed: {limit_kmh: 60}", "speed: {limit_kmh: 60, colour: red}"))
    video = SAMPLES / "regal-chowk.mp4"
    result = subprocess.run(
        [ANPR, "process", str(video), "--site", str(path), "--no-store"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {path}: key 'speed.colour': unknown key"]


def test_the_site_names_the_plate_grammar_its_videos_are_read_by(site_dir):
    """A Pakistani site reads plates as Pakistani unless the command says otherwise; a site file
    without the key leaves the reader to weigh every region's layouts."""
    from anpr.process import VideoProcessor

    site = load_site(write(site_dir, GOOD.replace('Lahore"}', 'Lahore", plate_region: pk}')))
    assert site.config.site.plate_region == "pk"
    assert VideoProcessor(site).region == "pk"
    assert VideoProcessor(site, region="auto").region == "auto"  # --region overrides the site
    assert VideoProcessor(load_site(write(site_dir, GOOD))).region == "auto"
