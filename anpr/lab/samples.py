"""The sample clips in sample_videos/, drawn by this project (anpr.lab.scene) so that every number in
their ground truth is exact: each vehicle's plate, speed and stop-line crossing, and the signal
timeline. Regenerate with `python -m anpr.lab.samples` (writes the clips, site files, CSVs and truth).

regal-chowk: signal phases from the controller (CSV); an over-speed car, a red-light runner, a car
             without a plate, one crossing on amber and one stopping at the line.
canal-road:  no phase data (the lamp is read off the image), speeds from a radar CSV; a truck, an
             over-speed car, a red-light runner and one stopping past the line on red (STOP_LINE)."""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anpr.lab.scene import Camera, Painter, Plate, draw_car, draw_road, draw_signal, draw_truck

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "sample_videos"
START_TIME = "2026-11-20T08:00:00+05:00"
LANES = (1.75, 5.25)  # lane centres (world x, m); the road is 7 m wide, boundaries 0, 3.5, 7
STOP_Y, SIGNAL_XY, RADAR_Y = 6.0, (8.6, 6.0), 15.0
CALIBRATION_WORLD = ((0.0, 0.0), (7.0, 0.0), (7.0, 30.0), (0.0, 30.0))
COLOURS = {
    "red": (40, 40, 190),
    "blue": (170, 80, 30),
    "maroon": (40, 30, 110),
    "white": (200, 200, 200),
    "orange": (30, 120, 220),
}


@dataclass(frozen=True)
class Vehicle:
    """Drives towards the camera at `kmh`; its front crosses the stop line at `cross_s`. With `stop_y`
    it brakes evenly over `brake_s` and stands still at stop_y from `cross_s` on instead."""

    name: str
    kind: str  # car | truck
    lane: int  # 1 or 2
    colour: str
    kmh: float
    cross_s: float
    plate_style: str | None  # None: no plate to read
    plate_seed: int = 0
    stop_y: float | None = None
    brake_s: float = 3.0

    def y_at(self, t: float) -> float:
        v = self.kmh / 3.6
        if self.stop_y is None:
            return STOP_Y + v * (self.cross_s - t)
        rest = self.cross_s  # for a stopping vehicle, cross_s is the time it comes to rest
        if t >= rest:
            return self.stop_y
        if t >= rest - self.brake_s:
            return self.stop_y + v / (2 * self.brake_s) * (rest - t) ** 2
        return self.stop_y + v * self.brake_s / 2 + v * (rest - self.brake_s - t)

    def line_crossing_s(self) -> float | None:
        """When the front passes the stop line (None if it never does)."""
        if self.stop_y is None:
            return self.cross_s
        if self.stop_y > STOP_Y:
            return None
        v = self.kmh / 3.6  # inside the braking phase: solve stop_y + v/(2T)(rest-t)^2 = STOP_Y
        return self.cross_s - math.sqrt((STOP_Y - self.stop_y) * 2 * self.brake_s / v)


@dataclass(frozen=True)
class Scenario:
    name: str
    site_id: str
    site_name: str
    phases: tuple[tuple[float, str], ...]
    vehicles: tuple[Vehicle, ...]
    duration_s: float = 8.0
    fps: float = 10.0
    limit_kmh: float = 60.0
    phases_csv: bool = True  # False: the site names the lamp's image region instead
    radar: bool = False

    def state_at(self, t: float) -> str:
        return [s for start, s in self.phases if start <= t][-1]


SCENARIOS = (
    Scenario(
        "regal-chowk",
        "LHR-REGAL-01",
        "Mall Road / Regal Chowk, Lahore",
        phases=((0.0, "green"), (3.0, "amber"), (5.5, "red")),
        vehicles=(
            Vehicle("A", "car", 1, "red", 50, 2.0, "pk-punjab-universal", 11),
            Vehicle("B", "car", 2, "blue", 85, 2.6, "pk-ict", 12),
            Vehicle("C", "car", 2, "white", 50, 5.0, None),
            Vehicle("D", "car", 1, "maroon", 45, 6.3, "pk-sindh-yellow", 14),
            Vehicle("E", "car", 2, "red", 50, 7.0, "pk-punjab-universal", 15, stop_y=7.5),
        ),
    ),
    Scenario(
        "canal-road",
        "LHR-CANAL-02",
        "Canal Road / Jail Road, Lahore",
        phases=((0.0, "red"), (1.0, "green"), (4.4, "amber"), (6.0, "red")),
        vehicles=(
            Vehicle("P", "truck", 1, "orange", 40, 3.0, "pk-punjab-universal", 21),
            Vehicle("Q", "car", 2, "blue", 75, 2.0, "pk-ict", 22),
            Vehicle("R", "car", 1, "red", 45, 6.8, "pk-punjab-universal", 23),
            Vehicle("S", "car", 2, "maroon", 30, 8.0, "pk-ict", 24, stop_y=5.0, brake_s=2.4),
        ),
        duration_s=9.0,
        phases_csv=False,
        radar=True,
    ),
)


def expected_violations(scenario: Scenario, vehicle: Vehicle) -> list[str]:
    codes = []
    if vehicle.stop_y is None and vehicle.kmh > scenario.limit_kmh:
        codes.append("OVER_SPEED")
    crossing = vehicle.line_crossing_s()
    if crossing is not None and scenario.state_at(crossing) == "red":
        codes.append("STOP_LINE" if vehicle.stop_y is not None else "RED_LIGHT")
    return codes


def plates(scenario: Scenario) -> dict[str, object]:
    from anpr.lab.synth import render_plate

    return {
        v.name: render_plate(np.random.default_rng(v.plate_seed), style=v.plate_style, degrade=False)
        for v in scenario.vehicles
        if v.plate_style
    }


def ground_truth_boxes(scenario: Scenario, camera: Camera, t: float) -> list[tuple[str, str, tuple]]:
    """(name, kind, x1 y1 x2 y2) of each vehicle in view at time t, from its 3D extent: boxes a
    perfect detector would give (occlusion ignored), for tests that need no model."""
    out = []
    for v in scenario.vehicles:
        y = v.y_at(t)
        if y < camera.y + 6 or y > 160:
            continue
        width, length, height = (2.4, 7.5, 3.2) if v.kind == "truck" else (1.78, 4.5, 1.4)
        x0, x1 = LANES[v.lane - 1] - width / 2, LANES[v.lane - 1] + width / 2
        corners = [(x, yy, z) for x in (x0, x1) for yy in (y, y + length) for z in (0, height)]
        pts = camera.project(np.asarray(corners, float))
        x1_, y1_ = np.clip(pts.min(0), 0, [camera.width - 1, camera.height - 1])
        x2_, y2_ = np.clip(pts.max(0), 0, [camera.width - 1, camera.height - 1])
        if x2_ - x1_ > 4 and y2_ - y1_ > 4:
            out.append((v.name, v.kind, (float(x1_), float(y1_), float(x2_), float(y2_))))
    return out


def render_frame(
    scenario: Scenario, camera: Camera, t: float, plate_images: dict
) -> tuple[np.ndarray, tuple]:
    painter = Painter(camera)
    draw_road(painter, STOP_Y)
    head = draw_signal(painter, scenario.state_at(t), *SIGNAL_XY)
    for vehicle in sorted(scenario.vehicles, key=lambda v: -v.y_at(t)):  # far ones first
        y = vehicle.y_at(t)
        if y < camera.y + 6 or y > 160:
            continue
        rendered = plate_images.get(vehicle.name)
        plate = (
            Plate(rendered.image, rendered.quad, 0.7 if len(rendered.lines) == 1 else 0.5)
            if rendered
            else None
        )
        draw = draw_truck if vehicle.kind == "truck" else draw_car
        draw(painter, LANES[vehicle.lane - 1], y, COLOURS[vehicle.colour], plate)
    return painter.finish(), head


def write_sample(scenario: Scenario, out_dir: Path = SAMPLES_DIR, camera: Camera | None = None) -> Path:
    """Write <name>.mp4, <name>.yaml, its CSVs and <name>.truth.json; returns the clip's path."""
    camera = camera or Camera()
    out_dir.mkdir(parents=True, exist_ok=True)
    plate_images = plates(scenario)
    clip = out_dir / f"{scenario.name}.mp4"
    head = None
    with _H264Writer(clip, scenario.fps, camera.width, camera.height) as writer:
        for index in range(round(scenario.duration_s * scenario.fps)):
            frame, head = render_frame(scenario, camera, index / scenario.fps, plate_images)
            writer.write(frame)
    assert head is not None  # a scenario lasts at least one frame
    _write_site(scenario, camera, head, out_dir)
    _write_truth(scenario, plate_images, out_dir)
    return clip


class _H264Writer:
    """H.264 through PyAV (a dependency of supervision): a tenth of the size of OpenCV's MPEG-4."""

    def __init__(self, path: Path, fps: float, width: int, height: int, crf: int = 28):
        from fractions import Fraction

        import av

        self.container = av.open(str(path), "w")
        self.stream = self.container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
        self.stream.options = {"crf": str(crf), "preset": "slow"}

    def write(self, frame: np.ndarray) -> None:
        import av

        for packet in self.stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
            self.container.mux(packet)

    def __enter__(self) -> _H264Writer:
        return self

    def __exit__(self, *exc) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def _write_site(scenario: Scenario, camera: Camera, head: tuple, out_dir: Path) -> None:
    image_points = [
        [round(float(x), 1), round(float(y), 1)] for x, y in camera.ground_to_image(CALIBRATION_WORLD)
    ]
    stop = [
        [round(float(x), 1), round(float(y), 1)]
        for x, y in camera.ground_to_image([(0, STOP_Y), (7, STOP_Y)])
    ]
    lines = [
        "# Drawn by anpr/lab/samples.py (python -m anpr.lab.samples);"
        f" camera {camera.width}x{camera.height}.",
        f'site: {{id: {scenario.site_id}, name: "{scenario.site_name}", plate_region: pk}}',
        f'camera: {{start_time: "{START_TIME}"}}',
        f"calibration: {{image: {image_points}, world: {[list(p) for p in CALIBRATION_WORLD]}}}",
    ]
    if scenario.radar:
        lines.append(
            f"speed: {{limit_kmh: {scenario.limit_kmh:g}, radar: {scenario.name}.radar.csv, "
            f"radar_line: {RADAR_Y:g}}}"
        )
        readings = sorted(
            (v.cross_s - (RADAR_Y - STOP_Y) / (v.kmh / 3.6), v) for v in scenario.vehicles if v.stop_y is None
        )
        with (out_dir / f"{scenario.name}.radar.csv").open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["time", "speed_kmh", "lane"])
            out.writerows((f"{t:.2f}", f"{v.kmh:.1f}", v.lane) for t, v in readings)
    else:
        lines.append(f"speed: {{limit_kmh: {scenario.limit_kmh:g}}}")
    if scenario.phases_csv:
        lines.append(f"signal: {{stop_line: {stop}, phases: {scenario.name}.signal.csv}}")
        with (out_dir / f"{scenario.name}.signal.csv").open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["time", "state"])
            out.writerows((f"{start:.1f}", state) for start, state in scenario.phases)
    else:
        x1, y1, x2, y2 = head
        lines.append(f"signal: {{stop_line: {stop}, light_region: [{x1 - 4}, {y1 - 4}, {x2 + 4}, {y2 + 4}]}}")
    lines.append("road: {flow: [0, -1], lanes: [0.0, 3.5, 7.0]}")
    (out_dir / f"{scenario.name}.yaml").write_text("\n".join(lines) + "\n")


def _write_truth(scenario: Scenario, plate_images: dict, out_dir: Path) -> None:
    vehicles = []
    for v in scenario.vehicles:
        rendered = plate_images.get(v.name)
        crossing = v.line_crossing_s()
        vehicles.append(
            {
                "name": v.name,
                "vehicle_type": v.kind,
                "colour": v.colour,
                "lane": v.lane,
                "plate": rendered.text if rendered else "",
                "plate_year": rendered.year if rendered else None,
                "plate_style": v.plate_style,
                "speed_kmh": v.kmh if v.stop_y is None else None,  # a braking vehicle has no single speed
                "crosses_stop_line_s": round(crossing, 3) if crossing is not None else None,
                "signal_at_crossing": scenario.state_at(crossing) if crossing is not None else None,
                "violations": expected_violations(scenario, v),
            }
        )
    truth = {
        "clip": f"{scenario.name}.mp4",
        "site": f"{scenario.name}.yaml",
        "fps": scenario.fps,
        "duration_s": scenario.duration_s,
        "speed_limit_kmh": scenario.limit_kmh,
        "signal_phases": [{"start_s": s, "state": st} for s, st in scenario.phases],
        "stop_line_y_m": STOP_Y,
        "vehicles": vehicles,
    }
    (out_dir / f"{scenario.name}.truth.json").write_text(json.dumps(truth, indent=2) + "\n")


def main(argv: list[str]) -> None:
    out_dir = Path(argv[0]) if argv else SAMPLES_DIR
    for scenario in SCENARIOS:
        clip = write_sample(scenario, out_dir)
        print(f"wrote {clip} ({clip.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main(sys.argv[1:])
