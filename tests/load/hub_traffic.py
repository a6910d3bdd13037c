"""The simulated cameras of the hub load test (tests/load/hub.py): what each sends, one line of
`anpr process --json` with real JPEG evidence per vehicle, and how, one post at a time and in
order, tried again as `anpr send` tries, with the times each event was due, sent and answered."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "sample_videos" / "regal-chowk.mp4"
URL = "/api/v1/ingest/events"
RETRIED = {429, 500, 502, 503, 504}  # `anpr send` tries these again; any other refusal is final
SUSPECTED = 0.04  # share of events the edge suspects of a violation (over speed or red light)
# What the vehicle model calls them (COCO's classes), about as often as Lahore's traffic has them
VEHICLE_TYPES = ("car", "car", "car", "car", "motorcycle", "motorcycle", "motorcycle", "bus", "truck")


# --- what a camera sends -------------------------------------------------------------------------


def evidence_templates() -> tuple[bytes, bytes]:
    """A 960x540 scene and a 360x120 plate close-up, JPEG, from a frame of the sample clip."""
    import cv2  # the vision stack, loaded only to cut the two images

    capture = cv2.VideoCapture(str(CLIP))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 20)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise SystemExit(f"cannot read a frame of {CLIP}")
    scene = cv2.resize(frame, (960, 540), interpolation=cv2.INTER_AREA)
    plate = cv2.resize(frame[1000:1200, 1000:1600], (360, 120), interpolation=cv2.INTER_AREA)
    return (
        cv2.imencode(".jpg", scene, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes(),
        cv2.imencode(".jpg", plate, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes(),
    )


def unique_jpeg(template: bytes, tag: str) -> bytes:
    """The same picture with a JPEG comment (COM segment) after its start marker: a different file
    (the hub stores files by content and writes a file it has only once), still a valid JPEG."""
    comment = tag.encode()
    return template[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + template[2:]


def plate_of(n: int) -> str:
    """The n-th plate in Punjab's universal layout (three letters, four digits), never starting with
    Z, so that no look-alike of it is a hotlisted plate."""
    letters, digits = divmod(n, 10_000)
    first, rest = divmod(letters % (25 * 26 * 26), 26 * 26)
    return f"{'ABCDEFGHIJKLMNOPQRSTUVWXY'[first]}{chr(65 + rest // 26)}{chr(65 + rest % 26)}{digits:04d}"


def hot_plate(n: int) -> str:
    return f"ZX{chr(65 + n // 10_000 % 26)}{n % 10_000:04d}"


@dataclass(frozen=True)
class Camera:
    id: str
    site_id: str
    key: str


def vehicle(
    camera: Camera, track_id: int, seen: datetime, plate: str, rng: random.Random, images: tuple[bytes, bytes]
) -> tuple[str, list[bytes]]:
    """One line of `anpr process --json` and its files, for a vehicle that left the picture at `seen`."""
    scene, close_up = images
    suspected = rng.random() < SUSPECTED
    red = suspected and rng.random() < 0.5
    first = seen - timedelta(seconds=rng.uniform(1.5, 4.0))
    crossed = first + timedelta(seconds=1.0)
    speed = rng.uniform(62.0, 85.0) if suspected and not red else rng.uniform(18.0, 55.0)
    kinds = (
        ("scene_before", "scene_at", "scene_after", "plate_crop") if suspected else ("scene_at", "plate_crop")
    )
    stamp = first.strftime("%Y%m%dT%H%M%S")
    files = [
        unique_jpeg(close_up if kind == "plate_crop" else scene, f"{camera.id}/{track_id}/{kind}")
        for kind in kinds
    ]
    evidence = [
        {
            "kind": kind,
            "path": f"out/evidence/{camera.site_id}_{stamp}_t{track_id}_{kind}.jpg",
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        for kind, data in zip(kinds, files, strict=True)
    ]
    claims = []
    if red:
        onset = crossed - timedelta(seconds=rng.uniform(0.5, 3.0))
        claims.append(
            {
                "code": "RED_LIGHT",
                "occurred_at": crossed.isoformat(),
                "id": None,
                "red_onset_at": onset.isoformat(),
                "amber_seconds": 3.0,
            }
        )
    elif suspected:
        claims.append(
            {
                "code": "OVER_SPEED",
                "occurred_at": crossed.isoformat(),
                "id": None,
                "speed_kmh": round(speed, 1),
                "limit_kmh": 60.0,
            }
        )
    confidence = round(rng.uniform(0.8, 0.99), 4)
    event = {
        "site_id": camera.site_id,
        "track_id": track_id,
        "plate": {
            "text": plate,
            "year": None,
            "confidence": confidence,
            "candidates": [{"text": plate, "confidence": confidence}],
            "year_candidates": [],
        },
        "vehicle_type": rng.choice(VEHICLE_TYPES),
        "colour": rng.choice(("white", "silver", "black", "grey", "red", "blue")),
        "first_seen": first.isoformat(),
        "last_seen": seen.isoformat(),
        "speed_kmh": round(speed, 1),
        "speed_method": "calibrated-ground-plane",
        "crossed_stop_line_at": crossed.isoformat(),
        "signal_state_at_crossing": "red" if red else "green",
        "direction": "with",
        "stopped_past_line_at": None,
        "evidence": evidence,
        "violations": claims,
    }
    return json.dumps(event), files


# --- the cameras ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Post:
    """One vehicle event: when it was due, sent (first try) and answered, and how."""

    site_id: str
    track_id: int
    hot: bool
    due: float  # monotonic: the vehicle left the picture
    sent: float = 0.0
    sent_wall: float = 0.0
    answered: float | None = None
    status: int | None = None  # the last answer; None: no answer by the cutoff


@dataclass
class Load:
    """What a camera count's run shares: its settings and what it saw."""

    interval: float
    hotlisted: float
    duration: float
    drain: float
    track_base: int
    images: tuple[bytes, bytes]
    hotlist_size: int
    hot: int  # hotlisted plates are taken in turn, carried on from the last camera count's run
    t0: float = 0.0  # monotonic: the window opens
    wall0: float = 0.0  # the same moment by the wall clock
    plates: int = 0
    due: int = 0  # vehicles due within the window, sent or not
    posts: list[Post] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def plate(self, rng: random.Random) -> tuple[str, bool]:
        if self.hotlist_size and rng.random() < self.hotlisted:
            self.hot += 1
            return hot_plate((self.hot - 1) % self.hotlist_size), True
        self.plates += 1
        return plate_of(self.track_base + self.plates), False


async def camera_loop(client: httpx.AsyncClient, camera: Camera, load: Load, rng: random.Random) -> None:
    """Vehicles every `interval` s on average until the window closes; each posted in order."""
    t0 = load.t0
    arrivals, due = [], t0 + rng.expovariate(1 / load.interval)
    while due < t0 + load.duration:
        arrivals.append(due)
        due += rng.expovariate(1 / load.interval)
    load.due += len(arrivals)  # counted now: a camera behind at the cutoff never reaches its last ones
    track_id = load.track_base
    headers = {"X-API-Key": camera.key}
    for due in arrivals:
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        track_id += 1
        plate, hot = load.plate(rng)
        seen = datetime.fromtimestamp(load.wall0 + (due - t0), UTC)
        body, files = vehicle(camera, track_id, seen, plate, rng, load.images)
        post = Post(camera.site_id, track_id, hot, due)
        load.posts.append(post)
        await deliver(client, headers, body, files, post, load.errors)


async def deliver(
    client: httpx.AsyncClient, headers: dict, body: str, files: list[bytes], post: Post, errors: Counter
) -> None:
    """Post until the hub answers 201 or 200, or refuses the event for what it is (a 4xx but 429);
    tried again after 0.5 s doubling, as `anpr send` does (capped at 5 s, not 30, in so short a run)."""
    parts = [("evidence", (f"{i}.jpg", data, "image/jpeg")) for i, data in enumerate(files)]
    back_off = 0.5
    post.sent, post.sent_wall = time.monotonic(), time.time()
    while True:
        try:
            response = await client.post(URL, data={"event": body}, files=parts, headers=headers)
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1
        else:
            post.status = response.status_code
            if response.status_code in (200, 201):
                post.answered = time.monotonic()
                return
            errors[str(response.status_code)] += 1
            if response.status_code not in RETRIED:
                post.answered = time.monotonic()
                return
        await asyncio.sleep(back_off)
        back_off = min(back_off * 2, 5.0)
