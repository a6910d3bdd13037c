"""A site file may say where the camera is (`site.location: {lat, lon}`, WGS 84 degrees), which the
hub's cloned-plate check measures between; a wrong one is a one-line error naming the key."""

import pytest

from anpr.errors import ConfigError
from anpr.site import load_site

SITE = """\
site: {{id: LHR-REGAL-01, name: "Mall Road / Regal Chowk, Lahore"{location}}}
camera: {{start_time: "2026-11-20T08:00:00+05:00"}}
calibration:
  image: [[100, 700], [800, 700], [600, 100], [300, 100]]
  world: [[0, 0], [7.0, 0], [7.0, 30.0], [0, 30.0]]
speed: {{limit_kmh: 60}}
"""


def site_file(tmp_path, location: str = ""):
    path = tmp_path / "site.yaml"
    path.write_text(SITE.format(location=f", location: {location}" if location else ""))
    return path


def test_a_site_may_say_where_it_is(tmp_path):
    assert load_site(site_file(tmp_path)).config.site.location is None
    location = load_site(site_file(tmp_path, "{lat: 31.5656, lon: 74.3142}")).config.site.location
    assert location is not None and (location.lat, location.lon) == (31.5656, 74.3142)


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("{lat: 91, lon: 74.3}", "key 'site.location.lat': Input should be less than or equal to 90"),
        (
            "{lat: 31.5, lon: -180.5}",
            "key 'site.location.lon': Input should be greater than or equal to -180",
        ),
        ("{lat: 31.5}", "key 'site.location.lon': required key is missing"),
        ("{lat: 31.5, lon: 74.3, alt: 210}", "key 'site.location.alt': unknown key"),
        ("[31.5, 74.3]", "key 'site.location': Input should be a valid dictionary or instance of Location"),
    ],
)
def test_a_wrong_location_is_one_line_naming_the_key(tmp_path, location, error):
    path = site_file(tmp_path, location)
    with pytest.raises(ConfigError) as caught:
        load_site(path)
    assert str(caught.value) == f"{path}: {error}"
