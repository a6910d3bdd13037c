"""The edge's side of the hub: vehicle events (the JSON of `anpr process --json`) and their evidence
sent to POST /api/v1/ingest/events, in order, none lost and none twice, however long the hub is away.

The queue is a Redis Stream on the edge box's own Redis (the batch workers' broker, ANPR_BROKER_URL):
an append-only log whose entry ids give the order. `put` copies the event's evidence files into the
spool folder (fsynced, one folder per event) and appends the event to the stream; `deliver` posts
the oldest entry, deletes it once the hub has answered 201 or 200 (stored now, or before), and goes
on to the next; an unreachable hub, a 5xx or a 429 leaves it at the head to be tried again after a
back-off (redis-py's), so a later event never overtakes an earlier one. Only an event the hub refuses
for what it is (400, 403, 409, 413, 415, 422) is moved to a second stream, `...:rejected`, with the
hub's reason and its files kept, so that it does not hold up the rest; a refused key or address
(401, 404) stops delivery with everything kept. A Redis lock lets one deliverer run per outbox.

At least once from here, exactly once at the hub: a crash between the hub's answer and the delete
sends the event again, and the hub's ingest receipt (camera, track, first_seen) answers 200 without
storing it twice. A marker per event (track and first_seen, kept 30 days) keeps the same event put
twice (the same file sent again) from being queued twice. Why a stream and not Celery: docs/hub.md."""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import LockError, RedisError, ResponseError

from anpr.errors import AnprError, InputError

PATH = "/api/v1/ingest/events"
KEY_HEADER = "X-API-Key"
PREFIX = "anpr:outbox:"
SEEN_TTL_S = 30 * 24 * 3600
LOCK_S = 90  # longer than one post (TIMEOUT_S) or one back-off (BACKOFF_CAP_S)
TIMEOUT_S = 60.0
BACKOFF_CAP_S = 30.0
REJECTED_STATUSES = frozenset({400, 403, 409, 413, 415, 422})  # this event, as sent, will never do
RETRY_STATUSES = frozenset({408, 425, 429})  # and every 5xx

# KEYS[1] the stream, KEYS[2] the event's marker; ARGV[1] the marker's life (s), ARGV[2..] the
# entry's fields and values. Queued only if the marker was not there: one script, so a crash cannot
# leave a marker without its entry (an event never sent) or two entries for one event.
PUT_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
end
return false
"""


class OutboxUnreachable(AnprError):
    """The edge's Redis, which holds the outbox, does not answer."""

    exit_code = 3


class HubRefused(AnprError):
    """The hub refuses the key or has no ingest at that address: nothing more is sent."""

    exit_code = 2


@dataclass(frozen=True)
class Delivery:
    """The hub's answer to one event: stored, duplicate (stored before) or rejected (with why)."""

    site_id: str
    track_id: int
    first_seen: str
    status: str
    http_status: int
    event_id: int | None = None
    violations: list[dict] = field(default_factory=list)
    reason: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class DeliveryRun:
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    left: int = 0  # still in the outbox when delivery stopped
    stopped: str | None = None  # why events were left: the hub unreachable, another deliverer...


@dataclass(frozen=True)
class _Retry:
    reason: str
    after_s: float | None = None


class Outbox:
    """The events one camera (one key) sends to one hub."""

    def __init__(self, *, hub: str, key: str, redis_url: str, spool: Path):
        self.url = hub.rstrip("/") + PATH
        self.key = key
        name = hashlib.sha256(f"{hub.rstrip('/')}\n{key}".encode()).hexdigest()[:16]
        self.stream = PREFIX + name
        self.rejected = self.stream + ":rejected"
        self.folder = Path(spool) / name
        self.redis = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=10)
        self._put_once = self.redis.register_script(PUT_ONCE)
        self.redis_url = redis_url

    # --- queueing ---------------------------------------------------------------------------------

    def put_lines(self, lines: Iterable[str], *, evidence_dir: Path) -> tuple[int, int]:
        """Queue each line's event (JSON lines; blank lines skipped) after checking them all: a bad
        line or a missing or changed evidence file is an InputError naming its line, and then
        nothing is queued. Returns (queued now, queued or sent before)."""
        checked = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                event = event_of(line)
                checked.append(
                    (event, None if self._queued_before(event) else evidence_files(event, evidence_dir))
                )
            except InputError as exc:
                raise InputError(f"line {number}: {exc}") from None
        queued = sum(self._put(event, files) for event, files in checked if files is not None)
        return queued, len(checked) - queued

    def put(self, event: dict, *, evidence_dir: Path) -> bool:
        """Queue one event (as `anpr process --json` prints it); False if it was queued before."""
        event = event_of(json.dumps(event))
        return not self._queued_before(event) and self._put(event, evidence_files(event, evidence_dir))

    def _marker(self, event: dict) -> tuple[str, str]:
        ident = f"{event['site_id']}\n{event['track_id']}\n{event['first_seen']}"
        key = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return key, f"{self.stream}:seen:{key}"

    def _queued_before(self, event: dict) -> bool:
        return bool(self._call(self.redis.exists, self._marker(event)[1]))

    def _put(self, event: dict, files: list[Path]) -> bool:
        key, marker = self._marker(event)
        line = json.dumps(event, separators=(",", ":"))
        folder = self.folder / f"{key}-{hashlib.sha256(line.encode()).hexdigest()[:8]}"
        names = _spool_files(files, folder)
        fields = {"key": key, "folder": folder.name, "event": line, "files": json.dumps(names)}
        flat = [item for pair in fields.items() for item in pair]
        return self._call(self._put_once, keys=[self.stream, marker], args=[SEEN_TTL_S, *flat]) is not None

    def pending(self) -> int:
        return int(self._call(self.redis.xlen, self.stream))

    def oldest_queued_at(self) -> datetime | None:
        """When the event at the head of the outbox was queued (its entry id is the time, in ms)."""
        head = self._call(self.redis.xrange, self.stream, count=1)
        return datetime.fromtimestamp(int(head[0][0].split("-")[0]) / 1000, UTC) if head else None

    def rejected_count(self) -> int:
        return int(self._call(self.redis.xlen, self.rejected))

    def persistence_warning(self) -> str | None:
        """Why the outbox would not survive this Redis restarting, if it would not."""
        try:
            append_only = self.redis.config_get("appendonly").get("appendonly")
        except (ResponseError, RedisError):
            return None  # CONFIG is refused by many managed Redis; nothing to say then
        if append_only == "no":
            return (
                f"the outbox's Redis ({self.redis_url}) does not write an append-only file (appendonly no):"
                " queued events are lost if it restarts before the hub has them"
            )
        return None

    # --- delivery ---------------------------------------------------------------------------------

    def deliver(
        self,
        *,
        wait_s: float = 0.0,
        on_delivery: Callable[[Delivery], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> DeliveryRun:
        """Send the queued events oldest first until none are left; while the hub cannot take one,
        try it again after a back-off for up to `wait_s` seconds in all, then stop and leave it and
        those after it queued. `stop()` true ends delivery between two events or during a back-off
        (anpr watch bounds its last delivery at a shutdown so). HubRefused when the hub refuses the
        key or has no ingest there."""
        import httpx

        run = DeliveryRun()
        lock = self.redis.lock(self.stream + ":sending", timeout=LOCK_S, blocking=False)
        if not self._call(lock.acquire):
            run.left, run.stopped = self.pending(), "another sender is delivering this outbox"
            return run
        deadline, failures = time.monotonic() + wait_s, 0
        backoff = ExponentialBackoff(cap=BACKOFF_CAP_S, base=0.5)
        try:
            with httpx.Client(timeout=TIMEOUT_S, headers={KEY_HEADER: self.key}) as client:
                while not (stop and stop()) and (head := self._call(self.redis.xrange, self.stream, count=1)):
                    entry_id, fields = head[0]
                    outcome = self._post(client, fields)
                    if isinstance(outcome, _Retry):
                        failures += 1
                        delay = outcome.after_s or backoff.compute(failures)
                        if time.monotonic() + delay > deadline or _pause(delay, stop):
                            run.stopped = outcome.reason
                            break
                        self._call(lock.reacquire)
                        continue
                    failures = 0
                    self._settle(entry_id, fields, outcome)
                    run.stored += outcome.status == "stored"
                    run.duplicates += outcome.status == "duplicate"
                    run.rejected += outcome.status == "rejected"
                    if on_delivery:
                        on_delivery(outcome)
                    self._call(lock.reacquire)
        finally:
            # Expired meanwhile: the next deliverer takes over from the head; nothing is lost.
            with contextlib.suppress(LockError, RedisError):
                lock.release()
        run.left = self.pending()
        return run

    def _post(self, client, fields: dict) -> Delivery | _Retry:
        import httpx

        event = json.loads(fields["event"])
        folder = self.folder / fields["folder"]
        names = json.loads(fields["files"])
        handles = []
        try:
            try:
                handles = [open(folder / name, "rb") for name in names]  # noqa: SIM115 (closed below)
            except OSError as exc:
                return _delivery(
                    event, "rejected", 0, reason=f"its spooled evidence is gone ({exc.strerror})"
                )
            if handles:
                files = [
                    ("evidence", (name, handle, mimetypes.guess_type(name)[0] or "application/octet-stream"))
                    for name, handle in zip(names, handles, strict=True)
                ]
                response = client.post(self.url, data={"event": fields["event"]}, files=files)
            else:
                headers = {"content-type": "application/json"}
                response = client.post(self.url, content=fields["event"].encode(), headers=headers)
        except httpx.HTTPError as exc:
            return _Retry(f"the hub is unreachable ({type(exc).__name__}: {exc})")
        finally:
            for handle in handles:
                handle.close()
        return self._outcome(event, response)

    def _outcome(self, event: dict, response) -> Delivery | _Retry:
        status = response.status_code
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        if status in (200, 201):
            return _delivery(
                event,
                "duplicate" if answer.get("duplicate") else "stored",
                status,
                event_id=answer.get("event_id"),
                violations=answer.get("violations") or [],
            )
        reason = str(answer.get("detail") or response.reason_phrase)
        if status in REJECTED_STATUSES:
            return _delivery(event, "rejected", status, reason=reason)
        if status in RETRY_STATUSES or status >= 500:
            after = response.headers.get("retry-after", "")
            return _Retry(f"the hub answered {status}: {reason}", float(after) if after.isdigit() else None)
        raise HubRefused(f"the hub at {self.url} answered {status}: {reason}")

    def _settle(self, entry_id: str, fields: dict, outcome: Delivery) -> None:
        """Take the entry off the outbox: its files go once the hub has them; a rejected event is
        kept whole (entry and files) in the rejected stream, and may be queued again once mended."""
        with self.redis.pipeline(transaction=True) as pipe:
            if outcome.status == "rejected":
                pipe.xadd(
                    self.rejected, {**fields, "status": outcome.http_status, "reason": outcome.reason or ""}
                )
                pipe.delete(f"{self.stream}:seen:{fields['key']}")
            pipe.xdel(self.stream, entry_id)
            self._call(pipe.execute)
        if outcome.status != "rejected":
            shutil.rmtree(self.folder / fields["folder"], ignore_errors=True)

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (RedisError, OSError) as exc:
            if isinstance(exc, LockError | ResponseError):
                raise
            raise OutboxUnreachable(
                f"the outbox's Redis at {self.redis_url} does not answer ({exc})"
            ) from None


def event_of(line: str) -> dict:
    """The event on a line of `anpr process --json`, with what the outbox keys it by; else an
    InputError saying what is wrong."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg})") from None
    if not isinstance(event, dict):
        raise InputError("not a JSON object")
    for name, kind in (("site_id", str), ("track_id", int), ("first_seen", str), ("evidence", list)):
        if not isinstance(event.get(name), kind):
            raise InputError(f"no {name} (is this `anpr process --json` output?)")
    return event


def evidence_files(event: dict, evidence_dir: Path) -> list[Path]:
    """The event's evidence files, in its order, each found and matching the SHA-256 the event
    gives (relative paths are under `evidence_dir`); else an InputError naming the file."""
    files = []
    for item in event["evidence"]:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or "sha256" not in item:
            raise InputError("an evidence entry without path and sha256")
        path = Path(item["path"])
        path = path if path.is_absolute() else Path(evidence_dir) / path
        try:
            digest = _sha256(path)
        except OSError as exc:
            raise InputError(f"evidence {path} cannot be read ({exc.strerror or exc})") from None
        if digest != item["sha256"]:
            raise InputError(f"evidence {path} has changed since the event was written (SHA-256 differs)")
        files.append(path)
    return files


def _pause(seconds: float, stop: Callable[[], bool] | None) -> bool:
    """Sleep `seconds`, or less if `stop()` turns true meanwhile (then True)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if stop and stop():
            return True
        time.sleep(min(left, 0.2) if stop else left)
    return bool(stop and stop())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _spool_files(files: list[Path], folder: Path) -> list[str]:
    """Copy the files into `folder` and flush them to disk before the event is queued."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for index, source in enumerate(files):
        name = f"{index}-{source.name}"
        partial = folder / f"{name}.part"
        with open(source, "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        partial.replace(folder / name)
        names.append(name)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return names


def _delivery(event: dict, status: str, http_status: int, **details) -> Delivery:
    return Delivery(
        site_id=str(event.get("site_id")),
        track_id=int(event.get("track_id", -1)),
        first_seen=str(event.get("first_seen")),
        status=status,
        http_status=http_status,
        **details,
    )
