"""The vehicle events stage: a closed track becomes one VehicleEvent (voted plate, type and colour;
ground-plane or radar speed; the stop-line crossing against the signal; direction of travel). The
same builder gives a provisional event for a track still in view, which the overlay's alerts are
judged on, so that the video and the findings never disagree."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from anpr import speed as sp
from anpr.signal import SignalTimeline
from anpr.site import Site
from anpr.tracks import Track
from anpr.types import VehicleEvent
from anpr.vote import vote_label, vote_plate

# A box the detector gave under this score is kept by the tracker only to keep the track alive (its
# new-track threshold): its extent is not trusted for the ground point a speed is measured on.
GROUND_MIN_CONFIDENCE = 0.25
# A box whose bottom edge, on the ground plane, is not as wide as a vehicle can be does not stand on
# the road where its bottom-centre says (a close-up's bumper filling a lane, two cars in one box):
# a motorcycle is about 0.7 m wide, a bus or truck 2.55 m; the box is a little looser than the body.
VEHICLE_WIDTH_M = (0.4, 3.2)


class EventBuilder:
    def __init__(self, site: Site, timeline: SignalTimeline, region: str = "auto"):
        self.site, self.config, self.timeline, self.region = site, site.config, timeline, region
        cal = self.config.calibration
        self.ground = sp.GroundPlane(cal.image, cal.world)
        self.radar = (
            sp.RadarMatcher(site.radar, self.config.road.lanes, self.config.speed.radar_line)
            if site.radar
            else None
        )
        self._closed_paths: list[tuple[sp.GroundPath, float | None]] = []

    def ground_path(self, track: Track, since_s: float = -np.inf) -> tuple[np.ndarray, np.ndarray]:
        """Times and world positions of the samples that show the ground point inside the calibrated
        area (boxes cut by the frame's sides or bottom, boxes under GROUND_MIN_CONFIDENCE, and boxes
        whose bottom edge is not VEHICLE_WIDTH_M wide on the road, left out)."""
        use = [
            i
            for i, (t, c, p) in enumerate(zip(track.times, track.clipped, track.confidences, strict=True))
            if not c and t >= since_s and p >= GROUND_MIN_CONFIDENCE
        ]
        if not use:
            return np.zeros(0), np.zeros((0, 2))
        boxes = np.asarray([track.boxes[i] for i in use], dtype=float)
        points = sp.bottom_centres(boxes)
        corners = np.concatenate([boxes[:, [0, 3]], boxes[:, [2, 3]]])  # bottom-left, then bottom-right
        safe = self.ground.horizon_safe(points) & self.ground.horizon_safe(corners).reshape(2, -1).all(axis=0)
        world = self.ground.to_world(points)
        left, right = np.split(self.ground.to_world(corners), 2)
        width = np.hypot(*(right - left).T)
        wide_as_a_vehicle = (width >= VEHICLE_WIDTH_M[0]) & (width <= VEHICLE_WIDTH_M[1])
        inside = safe & wide_as_a_vehicle & self.ground.inside(world, self.config.speed.margin_m)
        return np.asarray(track.times)[use][inside], world[inside]

    def live_speed(self, track: Track) -> float | None:
        """The ground-plane speed over the last smoothing window (what the overlay shows)."""
        window = self.config.speed.window_s
        times, world = self.ground_path(track, since_s=track.times[-1] - window - 0.01)
        windows = sp.window_speeds(times, world, window)
        return windows[-1].kmh if windows else None

    def provisional(self, track: Track) -> VehicleEvent:
        """The event as it stands while the track is still in view: the live speed, no radar claim."""
        times, world = self.ground_path(track)
        windows = sp.window_speeds(times, world, self.config.speed.window_s)
        live = self.live_speed(track)
        return self._event(track, windows, live, sp.GROUND_PLANE if live is not None else None)

    def close(self, track: Track, still_open: list[Track]) -> VehicleEvent:
        """The final event of a track that has left the picture. A radar reading is claimed by the
        track whose path passed its line at its time (against the open and recently closed ones)."""
        times, world = self.ground_path(track)
        windows = sp.window_speeds(times, world, self.config.speed.window_s)
        speed = sp.track_speed(windows)
        method = sp.GROUND_PLANE if speed is not None else None
        path = sp.GroundPath(track.id, times, world)
        if self.radar is not None:
            others = [(sp.GroundPath(t.id, *self.ground_path(t)), None) for t in still_open]
            reading = self.radar.claim(path, speed, others + self._closed_paths)
            if reading is not None:
                speed, method = reading.speed_kmh, sp.RADAR
        self._closed_paths = [
            p for p in self._closed_paths if p[0].times.size and p[0].times[-1] > track.times[-1] - 30
        ][-50:] + [(path, speed)]
        return self._event(track, windows, speed, method)

    def _event(self, track: Track, windows, speed: float | None, method: str | None) -> VehicleEvent:
        def at(seconds: float):
            return self.site.start_time + timedelta(seconds=seconds)

        signal = self.timeline.at(track.crossing_s) if track.crossing_s is not None else None
        stopped = None
        if track.crossing_s is not None:
            stopped = next(
                (w.time_s for w in windows if w.time_s > track.crossing_s and w.kmh < sp.STOPPED_KMH), None
            )
        return VehicleEvent(
            site_id=self.site.id,
            track_id=track.id,
            vehicle_type=vote_label(track.types, track.confidences) or "unknown",
            first_seen=at(track.times[0]),
            last_seen=at(track.times[-1]),
            plate=vote_plate(track.reads, self.region),
            colour=vote_label(track.colours),
            speed_kmh=speed,
            speed_method=method,
            crossed_stop_line_at=at(track.crossing_s) if track.crossing_s is not None else None,
            signal_state_at_crossing=signal.state if signal else None,
            red_onset_at=at(signal.red_onset_s) if signal and signal.red_onset_s is not None else None,
            amber_seconds=signal.amber_seconds if signal else None,
            direction=sp.direction(sp.mean_velocity(windows), self.config.road.flow),
            stopped_past_line_at=at(stopped) if stopped is not None else None,
        )
