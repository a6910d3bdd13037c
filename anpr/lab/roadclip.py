"""A two-lane road clip for the real-time benchmark (`anpr bench video --realtime`): real car photos
from openalpr-dev's validation half driven down the drawn road at 1920x1080 and 25 fps, as a
camera over a road sees them: cars one after another, two side by side, and close-ups (the photo
cropped to bumper and plate and pasted large, as an ANPR camera zoomed on one lane sees a car; the
vehicle detector may not see a car in it). Each car is a flat billboard whose bottom edge stands on
the road, so the ground point under its bottom-centre moves exactly at the truth speed.

The truth is matched to the pipeline's events by where their tracks were on the road (lane and
position along it at the same times), or by plate where a track gave no ground path."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from anpr.lab.scene import Camera, Painter, draw_road
from anpr.lab.video_bench import CAR_WIDTH_M, STOP_Y, cut_out_car, paste_car, sprite_box, write_site
from anpr.speed import GroundPath, lane_of
from anpr.types import VehicleEvent

FPS = 25.0
CAMERA = Camera(width=1920, height=1080, focal_px=2250.0)  # the default camera's field of view at 1080p
LANES = (0.0, 3.5, 7.0)  # lane boundaries across the drawn road (world x, m): lane 1 is the left one
Y_ENTRY = 40.0  # where a car comes into view (m along the road); cars drive towards the camera
MIN_GAP_M = 15.0  # the least distance between a car and the one ahead in its lane
KMH = tuple(range(30, 81, 5))
CLOSE_UP_M = 4.5  # a close-up's width on the road: a bumper crop four plates wide, pasted large
CLOSE_UP_MIN_PLATE_PX = 90  # a close-up's plate as photographed: narrower ones blur when pasted large
MATCH_Y_M = 6.0  # how far along the road a track may be from a car and be that car (a close-up's box
# bottom may sit on the bumper, above the road, which the ground plane puts metres further away)


@dataclass(frozen=True, eq=False)
class CarSprite:
    image: np.ndarray  # BGR: a car cut out whole, or a close-up's bumper crop
    plate: str  # what the plate shows (openalpr-dev's label, corrected where OPENALPR_ERRATA says)
    photo: str  # region/file name in openalpr-dev
    close_up: bool = False

    @property
    def width_m(self) -> float:
        return CLOSE_UP_M if self.close_up else CAR_WIDTH_M


@dataclass(frozen=True)
class TruthCar:
    """One car of the clip: in `lane`, its ground point at Y_ENTRY at entry_s (seconds since frame 0),
    then driving towards the camera at kmh until it has left the frame at exit_s."""

    plate: str
    kmh: float
    lane: int
    entry_s: float
    exit_s: float
    close_up: bool
    photo: str

    @property
    def x_m(self) -> float:
        return (LANES[self.lane - 1] + LANES[self.lane]) / 2

    def y_at(self, time_s):
        return Y_ENTRY - self.kmh / 3.6 * (np.asarray(time_s, float) - self.entry_s)

    def position_at(self, time_s: float) -> tuple[float, float] | None:
        if not self.entry_s <= time_s <= self.exit_s:
            return None
        return self.x_m, float(self.y_at(time_s))

    def to_json(self) -> dict:
        return {
            "plate": self.plate,
            "kmh": self.kmh,
            "lane": self.lane,
            "entry_s": round(self.entry_s, 2),
            "exit_s": round(self.exit_s, 2),
            "close_up": self.close_up,
            "photo": self.photo,
        }


@dataclass(frozen=True)
class RoadClip:
    clip: Path
    site: Path
    cars: tuple[TruthCar, ...]
    frames: int
    fps: float = FPS
    camera: Camera = CAMERA

    @property
    def seconds(self) -> float:
        return self.frames / self.fps

    def describe(self) -> str:
        close = sum(c.close_up for c in self.cars)
        entries = [c.entry_s for c in self.cars]
        beside = sum(entries.count(t) > 1 for t in entries)
        return (
            f"{len(self.cars)} cars ({close} close-ups, {beside} side by side), {self.seconds:.1f} s, "
            f"{self.frames} frames, {self.camera.width}x{self.camera.height} at {self.fps:g} fps"
        )


# --- building the clip --------------------------------------------------------------------------


def road_clip(
    count: int,
    seed: int,
    out_dir: Path,
    on_step: Callable[[str, int], None] | None = None,
    split: str = "val",
) -> RoadClip:
    """`count` cars from the validation photos (`split`: or the training half, for tests; a fifth of
    them close-ups, at least two), planned and drawn from `seed` into out_dir."""
    sprites = photo_sprites(count, max(2, count // 5), seed, on_photo=on_step, split=split)
    return draw_road_clip(plan_cars(sprites, np.random.default_rng(seed)), out_dir, on_frame=on_step)


def photo_sprites(
    count: int,
    close_ups: int,
    seed: int,
    detector=None,
    on_photo: Callable[[str, int], None] | None = None,
    split: str = "val",
) -> list[CarSprite]:
    """`count` cars from distinct validation photos in a seeded order: `close_ups` of them cropped
    about a wide plate, the rest cut out whole. InputError when the photos run out."""
    from anpr.detect import VehicleDetector
    from anpr.errors import InputError
    from anpr.images import load_image
    from anpr.lab.datasets import openalpr_photos

    detector = detector or VehicleDetector()
    photos = [p for p in openalpr_photos() if p.split == split]
    close: list[CarSprite] = []
    plain: list[CarSprite] = []
    for index in np.random.default_rng(seed).permutation(len(photos)):
        if len(close) == close_ups and len(plain) == count - close_ups:
            return close + plain
        photo = photos[index]
        if not photo.printed or photo.printed in {s.plate for s in close + plain}:
            continue
        if on_photo:
            on_photo("picking photos", len(photos))
        name = f"{photo.path.parent.name}/{photo.path.name}"
        image = load_image(photo.path)
        if len(close) < close_ups and photo.box[2] - photo.box[0] >= CLOSE_UP_MIN_PLATE_PX:
            close.append(CarSprite(close_up_crop(image, photo.box), photo.printed, name, close_up=True))
        elif len(plain) < count - close_ups:
            car = cut_out_car(image, photo.box, detector)
            if car is not None:
                plain.append(CarSprite(car, photo.printed, name))
    if len(close) == close_ups and len(plain) == count - close_ups:
        return close + plain
    raise InputError(
        f"openalpr-dev's {split} half gave {len(plain)} whole cars and {len(close)} close-ups, "
        f"not {count - close_ups} and {close_ups}"
    )


def close_up_crop(image: np.ndarray, plate_box) -> np.ndarray:
    """The photo about its plate, four plates wide and 0.55 as high, the plate a little below the
    middle: bumper, lamps and plate, what a camera zoomed on one lane frames."""
    x1, y1, x2, y2 = plate_box
    height, width = image.shape[:2]
    w = min(width, 4 * (x2 - x1))
    h = min(height, round(0.55 * w))
    left = int(np.clip((x1 + x2) / 2 - w / 2, 0, width - w))
    top = int(np.clip((y1 + y2) / 2 - 0.6 * h, 0, height - h))
    return image[top : top + h, left : left + w].copy()


def plan_cars(
    sprites: Sequence[CarSprite], rng: np.random.Generator, camera: Camera = CAMERA
) -> list[tuple[TruthCar, CarSprite]]:
    """Lanes, speeds and entry times, in entry order: the first two whole cars side by side, the
    others one at a time, 0.5 to 1.2 s after the one before, in the lane where they can enter
    soonest (keeping MIN_GAP_M to the car ahead for as long as both are in view); the first two that
    enter one after the other share a lane, so a car follows another in its lane."""
    plain = [s for s in sprites if not s.close_up]
    items = [plain[:2]] + [[s] for s in plain[2:] + [s for s in sprites if s.close_up]]
    order = [items[i] for i in rng.permutation(len(items))]
    follower = next((k for k in range(1, len(order)) if len(order[k]) == len(order[k - 1]) == 1), None)
    last: dict[int, TruthCar] = {}
    planned: list[tuple[TruthCar, CarSprite]] = []
    t = 0.2
    for k, item in enumerate(order):
        speeds = [float(rng.choice(KMH))]
        if len(item) == 2:
            speeds.append(float(np.clip(speeds[0] + rng.choice([-5, 0, 5]), KMH[0], KMH[-1])))
            lanes = [1, 2]
        elif k == follower:
            lanes = [planned[-1][0].lane]
        else:
            lanes = [min((1, 2), key=lambda lane: (_earliest(last.get(lane), speeds[0]), rng.random()))]
        entry = max([t] + [_earliest(last.get(lane), kmh) for lane, kmh in zip(lanes, speeds, strict=True)])
        for sprite, lane, kmh in zip(item, lanes, speeds, strict=True):
            car = TruthCar(sprite.plate, kmh, lane, entry, math.inf, sprite.close_up, sprite.photo)
            gone = _exit_y(sprite, car.x_m, camera)
            car = replace(car, exit_s=entry + (Y_ENTRY - gone) / (kmh / 3.6))
            last[lane] = car
            planned.append((car, sprite))
        t = entry + float(rng.uniform(0.5, 1.2))
    return planned


def _earliest(ahead: TruthCar | None, kmh: float) -> float:
    """The first entry time at which a car at kmh stays MIN_GAP_M behind `ahead` in the lane."""
    if ahead is None:
        return 0.0
    v_ahead, v = ahead.kmh / 3.6, kmh / 3.6
    t = ahead.entry_s + MIN_GAP_M / v_ahead
    if v > v_ahead:  # catching up: still MIN_GAP_M behind when the one ahead leaves the view
        t = max(t, ahead.exit_s - (Y_ENTRY - float(ahead.y_at(ahead.exit_s)) - MIN_GAP_M) / v)
    return t


def _exit_y(sprite: CarSprite, x: float, camera: Camera) -> float:
    """The road position at which the whole sprite is below the frame."""
    y = 0.0
    while y > camera.y + 2:  # short of the camera: a sprite taller than the camera never leaves
        if sprite_box(sprite.image.shape, camera, x, y, sprite.width_m)[1] >= camera.height:
            break
        y -= 0.25
    return y


def draw_road_clip(
    planned: Sequence[tuple[TruthCar, CarSprite]],
    out_dir: Path,
    camera: Camera = CAMERA,
    fps: float = FPS,
    on_frame: Callable[[str, int], None] | None = None,
) -> RoadClip:
    """road.mp4 (the project's video writer) and road.yaml (calibrated by the drawing camera, with a
    stop line) in out_dir; the clip ends when the last car has left the frame."""
    from anpr.video import VideoSink

    out_dir.mkdir(parents=True, exist_ok=True)
    painter = Painter(camera)
    draw_road(painter, STOP_Y)
    road = painter.finish()
    frames = math.floor(max(car.exit_s for car, _ in planned) * fps + 1e-9) + 1  # 0 s to the last exit
    sink = VideoSink(out_dir / "road.mp4", fps)
    try:
        for index in range(frames):
            t = index / fps
            frame = road.copy()
            on_road = [(car, s) for car, s in planned if car.entry_s <= t <= car.exit_s]
            for car, sprite in sorted(on_road, key=lambda cs: -float(cs[0].y_at(t))):  # far first
                paste_car(frame, sprite.image, camera, car.x_m, float(car.y_at(t)), sprite.width_m)
            sink.write(frame)
            if on_frame:
                on_frame("drawing the clip", frames)
    finally:
        sink.close()
    write_site(out_dir / "road.yaml", camera, "BENCH-ROAD")
    cars = tuple(car for car, _ in planned)
    return RoadClip(out_dir / "road.mp4", out_dir / "road.yaml", cars, frames, fps, camera)


# --- scoring the pipeline's events against the truth --------------------------------------------


@dataclass(frozen=True)
class ClosedTrack:
    """One closed track: its event, where it was on the road, and when it was seen (seconds)."""

    event: VehicleEvent
    path: GroundPath
    seen_s: tuple[float, float]


@dataclass(frozen=True)
class VehicleScore:
    car: TruthCar
    events: int  # the events that are this car: 0 missed, 2 or more split
    read: str | None = None  # the plate of its longest-seen event
    speed_kmh: float | None = None

    @property
    def read_ok(self) -> bool:
        return self.read == self.car.plate

    @property
    def speed_error_pct(self) -> float | None:
        if self.speed_kmh is None:
            return None
        return 100 * (self.speed_kmh - self.car.kmh) / self.car.kmh

    def to_json(self) -> dict:
        error = self.speed_error_pct
        return {
            **self.car.to_json(),
            "events": self.events,
            "read": self.read,
            "read_ok": self.read_ok,
            "speed_kmh": round(self.speed_kmh, 2) if self.speed_kmh is not None else None,
            "speed_error_pct": round(error, 2) if error is not None else None,
        }


@dataclass(frozen=True)
class Score:
    vehicles: tuple[VehicleScore, ...]
    unmatched: int  # events that are no car of the clip

    @property
    def errors(self) -> list[float]:
        """|speed error| in %, per car given a speed."""
        return [abs(e) for v in self.vehicles if (e := v.speed_error_pct) is not None]

    @property
    def exact_reads(self) -> int:
        return sum(v.read_ok for v in self.vehicles)

    @property
    def missed(self) -> tuple[TruthCar, ...]:
        return tuple(v.car for v in self.vehicles if not v.events)

    @property
    def extra(self) -> int:
        """Events beyond one per car found: no car's, or a car's track split in pieces."""
        return self.unmatched + sum(max(0, v.events - 1) for v in self.vehicles)

    def to_json(self) -> dict:
        return {
            "cars": len(self.vehicles),
            "exact_reads": self.exact_reads,
            "missed": len(self.missed),
            "extra_events": self.extra,
            "unmatched_events": self.unmatched,
            "speeds": len(self.errors),
            "speed_error_mean_pct": round(float(np.mean(self.errors)), 2) if self.errors else None,
            "speed_error_max_pct": round(max(self.errors), 2) if self.errors else None,
        }


def owner(cars: Sequence[TruthCar], track: ClosedTrack) -> int | None:
    """The index of the car a track was: the car in the track's lane, on the road at most of its
    sample times, nearest along the road (median, within MATCH_Y_M); failing that, the car whose plate
    the event read (or offered) and that was in view while the track was seen."""
    path = track.path
    if len(path.times):
        lane = lane_of(float(np.median(path.world[:, 0])), LANES)
        best: tuple[float, int] | None = None
        for index, car in enumerate(cars):
            during = (path.times >= car.entry_s) & (path.times <= car.exit_s)
            if car.lane != lane or 2 * during.sum() < len(path.times):
                continue
            gap = float(np.median(np.abs(path.world[during, 1] - car.y_at(path.times[during]))))
            if gap <= MATCH_Y_M and (best is None or gap < best[0]):
                best = (gap, index)
        if best is not None:
            return best[1]
    plate = track.event.plate
    texts = {plate.text, *(c.text for c in plate.candidates)} - {""} if plate else set()
    first, last = track.seen_s
    in_view = [i for i, car in enumerate(cars) if first <= car.exit_s and last >= car.entry_s]
    return next((i for i in in_view if cars[i].plate in texts), None)


def score(cars: Sequence[TruthCar], closed: Sequence[ClosedTrack]) -> Score:
    """Each car's events, its read and speed from the longest-seen of them, and the events that are
    no car's."""
    mine: dict[int, list[ClosedTrack]] = {}
    unmatched = 0
    for track in closed:
        index = owner(cars, track)
        if index is None:
            unmatched += 1
        else:
            mine.setdefault(index, []).append(track)
    rows = []
    for index, car in enumerate(cars):
        found = mine.get(index, [])
        main = max(found, key=lambda s: s.seen_s[1] - s.seen_s[0], default=None)
        event = main.event if main else None
        read = event.plate.text if event and event.plate else None
        rows.append(VehicleScore(car, len(found), read, event.speed_kmh if event else None))
    return Score(tuple(rows), unmatched)
