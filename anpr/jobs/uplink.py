"""A live camera's vehicle events sent to the hub instead of recorded (`anpr watch --hub URL`), for an
edge box with no database.

Each vehicle the camera closes, in the JSON of `anpr process --json`, is appended to its segment's
events.jsonl (flushed to disk) and queued in the camera's outbox (anpr.jobs.hub.Outbox: a Redis
Stream on the box's own Redis, its evidence copied into the spool folder first), in the pipeline's
thread, before the next frame. A thread of the camera's process delivers the outbox to the hub's
POST /api/v1/ingest/events oldest first, and while the hub is away keeps it, trying again after a
back-off (0.5 s doubling to 30 s; a refused key or address every minute), so nothing is lost and
nothing overtakes. At a stop the camera's open tracks are queued first, then the deliverer gets
DRAIN_S more to send what it can; what is left stays in the outbox (and its spool) and goes after
the next start, or with `anpr send --hub URL --key KEY`, which delivers the same outbox.

Keys: the hub issues one per camera (`anpr camera add ID --site SITE`). A camera's entry in the
cameras file names the environment variable that holds it (`key_env:`), or holds it (`key:`);
`--key` serves a file with one camera. A key is never printed: not in errors, not in the health.
There is no local alert checking without a database: the hub checks what it takes in. So that an
alert does not wait for the vehicle to leave the picture, a `Tipoff` posts each read the moment it
settles, with the images so far, to POST /api/v1/ingest/sightings, straight from a thread of its
own (not through the outbox: a tip-off late is worth nothing, and the event that follows raises any
alert the tip-off could not)."""

from __future__ import annotations

import contextlib
import json
import mimetypes
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from redis.backoff import ExponentialBackoff

from anpr.errors import ConfigError
from anpr.jobs.health import Health
from anpr.jobs.hub import BACKOFF_CAP_S, KEY_HEADER, Delivery, HubRefused, Outbox, OutboxUnreachable

EVENTS_FILE = "events.jsonl"  # in each segment folder: what the camera queued for the hub, in order
DRAIN_S = 10.0  # at a stop, how long the deliverer may go on sending (within watch.STOP_GRACE_S)
IDLE_S = 1.0  # how often an idle deliverer looks at its outbox (a queued event wakes it at once)
REFUSED_S = 60.0  # how long to wait before trying a hub that refused the key or address again
PUT_TRIES = 8  # tries to queue an event while the box's Redis does not answer (about 30 s)
KEY_SHAPE = re.compile(r"[!-~]{1,512}")  # printable ASCII, no spaces: it goes in an HTTP header


@dataclass(frozen=True)
class HubTarget:
    """Where a box's cameras send their events: the hub, and the Redis and spool folder that keep
    each camera's outbox meanwhile."""

    url: str
    redis_url: str
    spool: Path


def hub_target(url: str, *, redis_url: str, spool: Path) -> HubTarget:
    """The target, checked: a ConfigError for a hub that is no http(s):// address or an outbox that
    is not on Redis."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host or parsed.query:
        raise ConfigError(
            f"--hub {url!r} is not the hub's address (http:// or https://, e.g. https://hub.example.pk)"
        )
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"the outbox needs Redis (redis://...), not {redis_url.split(':')[0]}:// (--broker)"
        )
    return HubTarget(url.rstrip("/"), redis_url, spool)


def camera_keys(cameras, default: str | None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each camera's hub key: its own (`key_env:` names the variable holding it, or `key:`), else
    `default` (--key) when the file has one camera. A ConfigError naming the camera, never the key,
    for a camera without one, a variable not set, or two cameras with the same key."""
    environ = os.environ if environ is None else environ
    if default is not None and len(cameras) > 1:
        raise ConfigError(
            "--key serves a cameras file with one camera: give each camera its own key_env: (or key:)"
            " in the file"
        )
    keys: dict[str, str] = {}
    for camera in cameras:
        if camera.key_env:
            key = environ.get(camera.key_env, "").strip()
            if not key:
                raise ConfigError(
                    f"camera {camera.id}: key_env {camera.key_env} is not set (it holds the hub key)"
                )
        elif camera.key is not None:
            key = camera.key.get_secret_value().strip()
        elif default is not None:
            key = default.strip()
        else:
            raise ConfigError(
                f"camera {camera.id} has no hub key: give --key, or key_env: (or key:) in the cameras file"
            )
        if not KEY_SHAPE.fullmatch(key):
            raise ConfigError(
                f"camera {camera.id}: its hub key has spaces or characters no key from `anpr camera add` has"
            )
        twin = next((other for other, known in keys.items() if known == key), None)
        if twin:
            raise ConfigError(
                f"cameras {twin} and {camera.id} have the same hub key: the hub issues one per camera"
            )
        keys[camera.id] = key
    return keys


def check_outbox(target: HubTarget, key: str) -> str | None:
    """OutboxUnreachable when the box's Redis does not answer; else a warning when it would not
    keep the outbox across a restart, or None."""
    outbox = Outbox(hub=target.url, key=key, redis_url=target.redis_url, spool=target.spool)
    outbox.pending()
    return outbox.persistence_warning()


class Uplink:
    """One camera's events to the hub: `send` queues each closed vehicle, a thread delivers them.
    The camera's health says how many wait and since when, what the hub took and why it takes none."""

    def __init__(self, target: HubTarget, key: str, health: Health, save_health: Callable[[], None]):
        self.outbox = Outbox(hub=target.url, key=key, redis_url=target.redis_url, spool=target.spool)
        self.health, self.save_health = health, save_health
        self.health.queued = self.health.queued or 0  # a hub camera's health says so, even when empty
        self._wake = threading.Event()  # an event was queued
        self._finish = threading.Event()  # the camera has stopped: send what can be sent, then end
        self._deadline: float | None = None
        self._thread = threading.Thread(target=self._deliver, name=f"uplink-{health.camera}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def send(self, event: dict, segment: Path) -> None:
        """Queue one vehicle (as `anpr process --json` prints it) after writing it to the segment's
        events.jsonl. While the box's Redis does not answer, tries again for about 30 s (the live
        source drops frames meanwhile), then raises OutboxUnreachable: the line is in events.jsonl,
        for `anpr send` to queue later."""
        with open(segment / EVENTS_FILE, "a", encoding="utf-8") as log:
            log.write(json.dumps(event, ensure_ascii=False) + "\n")
            log.flush()
            os.fsync(log.fileno())
        backoff = ExponentialBackoff(cap=8.0, base=0.5)
        for attempt in range(1, PUT_TRIES + 1):
            try:
                self.outbox.put(event, evidence_dir=Path("."))
                break
            except OutboxUnreachable as exc:
                self.health.hub_error = str(exc)
                if attempt == PUT_TRIES:
                    raise
                time.sleep(backoff.compute(attempt))
        self._wake.set()

    def close(self, drain_s: float = DRAIN_S) -> None:
        """After the camera's last event is queued: deliver for up to `drain_s` more, then stop."""
        self._deadline = time.monotonic() + drain_s
        self._finish.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(drain_s + 1.0)
        if not self._thread.is_alive():
            self._note_backlog()

    # --- the deliverer's thread -------------------------------------------------------------------

    def _deliver(self) -> None:
        failures = 0
        backoff = ExponentialBackoff(cap=BACKOFF_CAP_S, base=0.5)
        while True:
            finishing = self._finish.is_set()
            retry_in = self._pass()
            if finishing:
                return
            if retry_in is None:
                failures = 0
                self._wait(self._wake, IDLE_S)
            else:
                failures += 1
                self._wait(self._finish, retry_in or backoff.compute(failures))

    def _pass(self) -> float | None:
        """Deliver until the outbox is empty (None) or the hub takes no more: then the seconds to
        wait before trying again (0: the usual back-off)."""
        self._wake.clear()
        retry_in: float | None = None
        try:
            run = self.outbox.deliver(on_delivery=self._delivered, stop=self._past_deadline)
            self.health.hub_error = run.stopped if run.left else None
            retry_in = 0.0 if run.left else None
        except HubRefused as exc:
            self.health.hub_error, retry_in = str(exc), REFUSED_S
        except OutboxUnreachable as exc:
            self.health.hub_error, retry_in = str(exc), 0.0
        except Exception as exc:  # e.g. the lock lost to another sender: said, and tried again
            self.health.hub_error, retry_in = f"unexpected {type(exc).__name__}: {exc}", 0.0
        self._note_backlog()
        return retry_in

    def _wait(self, event: threading.Event, seconds: float) -> None:
        """Until `event` (or the camera's stop) or `seconds`, saying the backlog once a second."""
        deadline = time.monotonic() + seconds
        while not self._finish.is_set() and (left := deadline - time.monotonic()) > 0:
            if event.wait(min(left, 1.0)):
                return
            self._note_backlog()

    def _delivered(self, delivery: Delivery) -> None:
        self.health.sent += delivery.status in ("stored", "duplicate")
        self.health.rejected += delivery.status == "rejected"

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _note_backlog(self) -> None:
        try:
            queued, oldest = self.outbox.pending(), self.outbox.oldest_queued_at()
        except OutboxUnreachable as exc:
            self.health.hub_error = str(exc)
        else:
            self.health.queued = queued
            self.health.queued_since = oldest.isoformat(timespec="milliseconds") if oldest else None
        self.save_health()


TIPOFF_PATH = "/api/v1/ingest/sightings"
TIPOFF_TIMEOUT_S = 3.0
TIPOFF_QUEUE = 32  # tip-offs waiting to be posted; beyond it the oldest go (their events follow)


class Tipoff:
    """Attached to a camera's VideoProcessor: each read that settles is posted to the hub at once
    (the provisional event with the plate read and the images so far), for its alerts; best effort,
    one try. A stand-in for anpr.jobs.lookout.Lookout on a box with no database."""

    def __init__(self, target: HubTarget, key: str, site, evidence_dir: Path):
        self.url, self.key, self.site = target.url.rstrip("/") + TIPOFF_PATH, key, site
        self.evidence_dir = evidence_dir / "alerts"
        self.processor = None
        self.posted = self.failed = 0
        self.latencies: list[float] = []  # seconds from the read settling to the hub's answer
        self._queue: queue.Queue = queue.Queue(maxsize=TIPOFF_QUEUE)
        self._thread = threading.Thread(target=self._post_all, name="tipoff", daemon=True)
        self._thread.start()

    def attach(self, processor) -> None:
        self.processor = processor
        processor.on_settled = self.on_settled

    def on_settled(self, track, plate, time_s: float) -> None:
        from anpr.jobs.lookout import settled_images

        if plate is None or not plate.text or self.processor is None:
            return
        event = replace(self.processor.events.provisional(track), plate=plate)
        images = settled_images(
            self.evidence_dir, self.site, self.processor.fps, event, track, ["read settled"]
        )
        record = replace(event, evidence=images).to_json()
        try:
            self._queue.put_nowait((time.perf_counter(), record))
        except queue.Full:  # the hub is slow: the oldest tip-off goes, its event will follow
            with contextlib.suppress(queue.Empty):
                self._discard(self._queue.get_nowait()[1])
            self._queue.put_nowait((time.perf_counter(), record))

    def frame_done(self) -> None:
        pass

    def close(self, wait_s: float = 2.0) -> None:
        self._queue.put(None)
        self._thread.join(wait_s)

    def _post_all(self) -> None:
        import httpx

        with httpx.Client(timeout=TIPOFF_TIMEOUT_S, headers={KEY_HEADER: self.key}) as client:
            while (item := self._queue.get()) is not None:
                settled_at, record = item
                try:
                    self._post(client, record)
                    self.posted += 1
                    self.latencies.append(time.perf_counter() - settled_at)
                except (httpx.HTTPError, OSError, ValueError):
                    self.failed += 1  # the event that follows raises the alerts instead
                self._discard(record)

    def _discard(self, record: dict) -> None:
        """The tip-off's own images, once posted (or not): the hub keeps what an alert needs, and
        the edge keeps its events' evidence; written for every settled read, they would fill the
        box's disk (about 250 MB an hour for a busy camera)."""
        folder = self.evidence_dir.resolve()
        for item in record.get("evidence", []):
            path = Path(item["path"]).resolve()
            if path.is_relative_to(folder):
                path.unlink(missing_ok=True)

    def _post(self, client, record: dict) -> None:
        files = [
            (
                "evidence",
                (Path(e["path"]).name, Path(e["path"]).read_bytes(), mimetypes.guess_type(e["path"])[0]),
            )
            for e in record.get("evidence", [])
        ]
        data = {"event": json.dumps(record, ensure_ascii=False)}
        response = (
            client.post(self.url, data=data, files=files) if files else client.post(self.url, json=record)
        )
        if response.status_code >= 400:
            raise ValueError(f"the hub answered {response.status_code}")
