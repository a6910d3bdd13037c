"""The hub of the load test (tests/load/hub.py) and its records: a schema of its own with the
cameras and the hotlist registered as the CLI registers them, `anpr serve` on loopback, a watch on
the alerts and on what the hub's database connections do, and the check that every acknowledged
event is stored exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import sqlalchemy as sa

from challan.audit import CHAIN_LOCK
from tests.load.bench_portal import schema_url
from tests.load.hub_traffic import ROOT, Camera, Load, hot_plate

SITE_FILE = ROOT / "sample_videos" / "regal-chowk.yaml"
HOT_LIST = "stolen"
POLL_S = 0.1
LAHORE = (31.52, 74.35)


# --- the hub -------------------------------------------------------------------------------------


@dataclass
class Hub:
    url: str  # the records, in their own schema
    schema: str
    base: str  # http://127.0.0.1:PORT
    server: subprocess.Popen
    cameras: list[Camera]


def register(url: str, count: int, hotlist_size: int, work: Path) -> list[Camera]:
    """`count` cameras, one site each, as `anpr camera add` registers them, and the hotlist, as
    `anpr hotlist import` adds it; returns the cameras with their keys."""
    from anpr.jobs.footage import site_rules
    from anpr.site import load_site
    from challan.cameras import register_camera
    from challan.db import get_engine, session_scope
    from challan.hotlists import import_csv
    from challan.sightings import locate_site

    rules = site_rules(load_site(SITE_FILE))
    rng = random.Random(7)
    cameras = []
    hotlist = work / "hotlist.csv"
    hotlist.write_text(
        "plate,list,reason\n" + "".join(f"{hot_plate(n)},{HOT_LIST},load test\n" for n in range(hotlist_size))
    )
    with session_scope(url) as session:
        for index in range(count):
            camera = Camera(id=f"LOAD-C{index:05d}", site_id=f"LOAD-S{index:05d}", key="")
            key = register_camera(
                session,
                camera_id=camera.id,
                rules=dataclasses.replace(rules, site_id=camera.site_id),
                site_name=f"Load test site {index}",
                actor="load-test",
                events_per_minute=1_000_000,  # the limiter still counts each post; it never refuses one
            )
            # Within 30 km of each other: the cloned-plate check compares every read with the others.
            lat, lon = LAHORE[0] + rng.uniform(-0.15, 0.15), LAHORE[1] + rng.uniform(-0.15, 0.15)
            locate_site(session, site_id=camera.site_id, lat=lat, lon=lon, actor="load-test")
            cameras.append(dataclasses.replace(camera, key=key))
        if hotlist_size:
            import_csv(session, path=hotlist, actor="load-test")
    get_engine(url).dispose()
    return cameras


@contextmanager
def serving(url: str, *, workers: int, redis: str | None, work: Path):
    """`anpr serve` on a free loopback port; yields (process, base address)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "ANPR_EVIDENCE_DIR": str(work / "evidence"),
        "ANPR_SECRET_KEY": "load-test-" * 4,
        "ANPR_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("ANPR_REDIS_URL", None)
    if redis:
        env["ANPR_REDIS_URL"] = redis
    anpr = Path(sys.executable).with_name("anpr")
    command = [str(anpr), "serve", "--db", url, "--port", str(port), "--workers", str(workers)]
    log = (work / "hub.log").open("w")
    server = subprocess.Popen([*command, "--log-level", "warning"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                tail = (work / "hub.log").read_text().strip().splitlines()[-1:] or ["no output"]
                raise SystemExit(f"hub load test: the hub did not start ({tail[0]})")
            try:
                if httpx.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield server, base
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@contextmanager
def hub(
    base_db: str, *, cameras: int, hotlist_size: int, workers: int, redis: str | None, work: Path, keep: bool
):
    """A hub on fresh records: schema created, migrated, filled with cameras and the hotlist,
    served; the schema is dropped at the end whatever happens, unless `keep`."""
    schema = f"anpr_load_{uuid.uuid4().hex[:10]}"
    # The hub's connections carry the schema's name, so that what they wait on can be told apart.
    url = f"{schema_url(base_db, schema)}&application_name={schema}"
    admin = sa.create_engine(base_db)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        started = time.monotonic()
        registered = register(url, cameras, hotlist_size, work)
        print(
            f"schema {schema}: {cameras} cameras and {hotlist_size} hotlisted plates registered in "
            f"{time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        with serving(url, workers=workers, redis=redis, work=work) as (server, base):
            yield Hub(url, schema, base, server, registered)
    finally:
        if not keep:
            with admin.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


def libpq(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it (the driver name dropped; options kept)."""
    parsed = sa.make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def cpu_s(pid: int) -> float | None:
    """CPU seconds a process on this machine has used (the database is on loopback), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Watch:
    """Polls the hub's records: when each (site, track)'s first alert became visible and when the hub
    says it raised it; and what the hub's database connections are doing (pg_stat_activity), to
    show where the time goes when the hub falls behind."""

    def __init__(self, url: str, schema: str):
        self.conninfo = libpq(url)
        self.schema = schema
        self.last_id = 0
        self.seen: dict[tuple[str, int], tuple[float, float]] = {}  # monotonic seen, wall raised
        self.kinds: Counter[str] = Counter()
        self.samples = 0
        self.backends: Counter[str] = Counter()  # "state (wait)" -> connections seen so, summed
        self.cpu_start: dict[int, float] = {}  # the hub's PostgreSQL backends: CPU s when first seen
        self.cpu_last: dict[int, float] = {}  # ... and when last seen
        self.chain_held = 0  # samples in which a hub connection held the audit chain's lock
        self.chain_waiting = 0  # hub connections waiting for it, summed over the samples

    async def connect(self) -> psycopg.AsyncConnection:
        """Its connection, once the alerts already stored (an earlier camera count's) are passed."""
        connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        cursor = await connection.execute("SELECT coalesce(max(id), 0) FROM alerts")
        self.last_id = (await cursor.fetchone() or (0,))[0]
        self.cpu_start = {
            pid: cpu for pid in await self.backends_now(connection) if (cpu := cpu_s(pid)) is not None
        }
        return connection

    async def run(self, connection: psycopg.AsyncConnection, stop: asyncio.Event) -> None:
        async with connection:
            while not stop.is_set():
                await self.poll(connection)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_S)
            await self.poll(connection)

    async def poll(self, connection: psycopg.AsyncConnection) -> None:
        cursor = await connection.execute(
            "SELECT id, kind, site_id, track_id, raised_at FROM alerts WHERE id > %s ORDER BY id",
            (self.last_id,),
        )
        rows = await cursor.fetchall()
        now = time.monotonic()
        for alert_id, kind, site_id, track_id, raised_at in rows:
            self.last_id = alert_id
            self.kinds[kind] += 1
            self.seen.setdefault((site_id, track_id), (now, raised_at.timestamp()))
        cursor = await connection.execute(
            "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (self.schema,),
        )
        self.samples += 1
        for pid, state, wait_type, wait in await cursor.fetchall():
            if (cpu := cpu_s(pid)) is not None:
                self.cpu_last[pid] = cpu
                self.cpu_start.setdefault(pid, 0.0)  # opened during the run: all its CPU is the run's
            if state == "idle":
                continue  # in the pool, not in a request
            self.backends[f"{state} ({wait_type}: {wait})" if wait else f"{state} (on CPU)"] += 1
        # Every stored event writes an audit entry, sealed into one hash chain under one advisory
        # lock held to the commit (challan.audit): how busy that lock is says whether it is the limit.
        cursor = await connection.execute(
            "SELECT count(*) FILTER (WHERE l.granted), count(*) FILTER (WHERE NOT l.granted)"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE a.application_name = %s AND l.locktype = 'advisory' AND l.classid = 0 AND l.objid = %s",
            (self.schema, CHAIN_LOCK),
        )
        held, waiting = await cursor.fetchone() or (0, 0)
        self.chain_held += bool(held)
        self.chain_waiting += waiting

    def busiest(self) -> dict[str, float]:
        """The hub's connections in each state, on average over the samples, most first."""
        return (
            {k: round(n / self.samples, 2) for k, n in self.backends.most_common(6)} if self.samples else {}
        )

    async def backends_now(self, connection: psycopg.AsyncConnection) -> list[int]:
        cursor = await connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (self.schema,)
        )
        return [pid for (pid,) in await cursor.fetchall()]

    def postgres_cpu(self) -> float | None:
        """CPU seconds of the hub's database connections during the run (a connection that closed
        loses what it used after its last sample, at most 0.1 s); None if PostgreSQL is not on this
        machine."""
        if not self.cpu_last:
            return None
        return sum(self.cpu_last.values()) - sum(self.cpu_start.get(pid, 0.0) for pid in self.cpu_last)


def stored_tracks(url: str, low: int, high: int) -> tuple[Counter[tuple[str, int]], int]:
    """How many times each (site, track) in the range is in `events`, and the receipts in the range."""
    with psycopg.connect(libpq(url)) as connection:
        rows = connection.execute(
            "SELECT site_id, track_id, count(*) FROM events WHERE track_id > %s AND track_id <= %s"
            " GROUP BY site_id, track_id",
            (low, high),
        ).fetchall()
        receipts = connection.execute(
            "SELECT count(*) FROM ingest_receipts WHERE track_id > %s AND track_id <= %s", (low, high)
        ).fetchone()
    return Counter({(site, track): n for site, track, n in rows}), receipts[0] if receipts else 0


def exactly_once(load: Load, stored: Counter, receipts: int) -> tuple[bool, str]:
    """Every acknowledged event stored once; anything else stored was cut off in flight."""
    acknowledged = {(p.site_id, p.track_id) for p in load.posts if p.status in (200, 201)}
    cut_off = {(p.site_id, p.track_id) for p in load.posts if p.answered is None}
    twice = [key for key, n in stored.items() if n > 1]
    missing = acknowledged - set(stored)
    unexplained = set(stored) - acknowledged - cut_off
    if twice or missing or unexplained or receipts != sum(stored.values()):
        return False, (
            f"{len(twice)} stored twice, {len(missing)} acknowledged but not stored, {len(unexplained)} "
            f"stored but never posted, {receipts} receipts for {sum(stored.values())} events"
        )
    return (
        True,
        f"{len(acknowledged)} acknowledged, each stored once"
        f" ({len(set(stored) - acknowledged)} more stored, cut off in flight)",
    )
