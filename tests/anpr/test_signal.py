"""Signal phases, stop-line crossings and the lamp reader on hand-built inputs."""

import numpy as np
import pytest

from anpr.signal import LightObserver, SignalTimeline, StopLine, light_colour
from anpr.site import Phase

TIMELINE = SignalTimeline([Phase(3.0, "amber"), Phase(0.0, "green"), Phase(5.5, "red"), Phase(20.0, "green")])


@pytest.mark.parametrize(
    ("t", "state", "onset", "amber"),
    [
        (-1.0, None, None, None),  # before the first phase: unknown
        (0.0, "green", None, None),
        (2.99, "green", None, None),
        (3.0, "amber", None, None),
        (5.5, "red", 5.5, 2.5),
        (7.3, "red", 5.5, 2.5),
        (25.0, "green", None, None),
    ],
)
def test_phase_at_a_time(t, state, onset, amber):
    at = TIMELINE.at(t)
    assert (at.state, at.red_onset_s, at.amber_seconds) == (state, onset, amber)


def test_red_without_amber_before_has_no_amber_time():
    timeline = SignalTimeline([Phase(0.0, "green"), Phase(4.0, "red")])
    assert timeline.at(4.5).amber_seconds is None and timeline.at(4.5).red_onset_s == 4.0


LINE = StopLine((100, 300), (500, 300))


@pytest.mark.parametrize(
    ("a", "b", "fraction"),
    [
        ((200, 280), (200, 320), 0.5),  # straight across
        ((200, 320), (200, 280), 0.5),  # the other way counts too
        ((200, 290), (200, 300), 1.0),  # ends on the line: counted
        ((200, 300), (200, 310), None),  # starts on it: already counted
        ((200, 280), (200, 299), None),  # short of the line
        ((600, 280), (600, 320), None),  # beside the segment
        ((490, 280), (530, 320), None),  # meets y=300 at x=510, past the segment's end
        ((470, 280), (510, 320), 0.5),  # meets it at x=490, inside
    ],
)
def test_stop_line_crossing(a, b, fraction):
    result = LINE.crossing(a, b)
    assert result == (pytest.approx(fraction) if fraction is not None else None)


def _head(lit: str | None) -> np.ndarray:
    image = np.full((60, 24, 3), 25, np.uint8)
    colours = {"red": (40, 40, 255), "amber": (0, 190, 255), "green": (90, 230, 40)}
    for row, name in enumerate(("red", "amber", "green")):
        colour = colours[name] if name == lit else tuple(int(c * 0.22) + 20 for c in colours[name])
        image[4 + row * 19 : 18 + row * 19, 5:19] = colour
    return image


@pytest.mark.parametrize("lit", ["red", "amber", "green", None])
def test_light_colour_reads_the_lit_lamp(lit):
    assert light_colour(_head(lit)) == lit


def test_light_observer_backdates_a_change_once_it_has_held():
    observer = LightObserver((0, 0, 24, 60), hold=2)
    frame = np.zeros((100, 100, 3), np.uint8)
    states = ["green", "green", "green", "amber", "green", "amber", "amber", "red", "red"]
    for i, lit in enumerate(states):
        frame[:60, :24] = _head(lit)
        observer.observe(frame, i * 0.5)
    # one amber frame alone is a flicker; amber from 2.5 s held, so it starts at 2.5; red at 3.5
    assert [(p.start_s, p.state) for p in observer.timeline.phases] == [
        (0.0, "green"),
        (2.5, "amber"),
        (3.5, "red"),
    ]
