"""Hub load test (issue #27, item 8; not a CI test): N simulated cameras post vehicle events to the
hub on loopback, and the report says how many it took in a second, how long a post took and how
long a hotlisted plate took to become an alert.

    .venv/bin/python -m tests.load.hub --cameras 50,200,1000 --duration 30 \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/test --redis redis://127.0.0.1:6379/15 \\
        --out out/load/hub.json

The hub is the real one: `anpr serve` (the FastAPI portal under uvicorn, --workers processes) on a
free 127.0.0.1 port, its records in a schema of their own (anpr_load_<random>, created, migrated
and dropped at the end; the database's other tables are left alone), its evidence in a temporary
folder, its per-camera rate limit in Redis when --redis is given (as a hub with several workers
runs). The cameras are registered as `anpr camera add` does (challan.cameras, with the rules of
sample_videos/regal-chowk.yaml, one site each, spread over 30 km of Lahore), and a hotlist of
--hotlist-size plates is imported as `anpr hotlist import` does.

Each camera sees vehicles as a Poisson process, one every --interval seconds on average (default
4 s, 900 vehicles an hour: a busy two-lane signalised approach at about half its peak flow). For
each vehicle it posts one line of `anpr process --json` to POST /api/v1/ingest/events, multipart,
with real JPEG evidence cut from sample_videos/regal-chowk.mp4 (a 960x540 scene, 63 KB, and a
360x120 plate close-up, 5 KB; three scenes and the plate for the 4 % the edge suspects of a
violation), each made unique and named by its SHA-256. --hotlisted of the plates (default 2 %) are
on the hotlist. A camera posts its events one at a time and in order, as `anpr send` does: when
the hub falls behind, the next vehicle waits at the camera (`wait`), and a 5xx, 429 or lost
connection is tried again after 0.5 s doubling to 5 s. New vehicles stop after --duration
seconds; what is queued then gets --drain seconds more; what is still unsent is `left`.

Figures, per camera count: offered and ingested events a second (answered 201 within the
--duration window, over that window); ingest latency, POST sent to the hub's answer (a retried
event: from its first try); wait, vehicle seen to POST sent; alert latency, POST sent to the alert
being visible in the alerts table (polled every 0.1 s, so up to 0.1 s late), for each hotlisted
event; errors, every failed try by status or exception; CPU seconds of the hub, this generator and
the hub's PostgreSQL connections; and, sampled with the alerts, what those connections were doing
(pg_stat_activity) and how often one held the audit chain's lock (every stored event is sealed into
one hash chain under one database-wide lock: challan.audit). Then the records are checked: every
event the hub acknowledged is stored exactly once, and nothing else is stored but events still in
flight at the cutoff. Exit 1 if that check fails. (The cameras: tests/load/hub_traffic.py; the hub
and its records: tests/load/hub_records.py.)

The table is printed; --out writes the JSON report there and the table beside it (.txt). Loopback
only; the run is bounded by --duration + --drain per size, and keeps only a few numbers per event."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import sqlalchemy as sa

from tests.load.bench_portal import _cpu, percentile
from tests.load.hub_records import Hub, Watch, exactly_once, hub, stored_tracks
from tests.load.hub_traffic import SUSPECTED, Load, camera_loop, evidence_templates

DEFAULT_DB = os.environ.get("ANPR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TRACKS_PER_RUN = 1_000_000  # each camera count's track ids start at a multiple of this
NO_ALERTS = "n/a (ingest raises no alerts)"


# --- one camera count ----------------------------------------------------------------------------


async def simulate(served: Hub, load: Load, cameras: int, seed: int) -> Watch:
    """Run the cameras until the window closes and the queue drains (or --drain runs out)."""
    watch = Watch(served.url, served.schema)
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch.run(await watch.connect(), stop))
    limits = httpx.Limits(max_connections=cameras, max_keepalive_connections=cameras)
    async with httpx.AsyncClient(base_url=served.base, limits=limits, timeout=30.0) as client:
        load.t0, load.wall0 = time.monotonic() + 0.5, time.time() + 0.5
        loops = [
            camera_loop(client, camera, load, random.Random(f"{seed}/{load.track_base}/{camera.id}"))
            for camera in served.cameras[:cameras]
        ]
        try:
            async with asyncio.timeout(0.5 + load.duration + load.drain):
                await asyncio.gather(*loops)
        except TimeoutError:
            pass  # what is still queued or in flight is counted as left
    await asyncio.sleep(1.0)  # posts cut off may still be committing, and alerts still coming
    stop.set()
    await watcher
    return watch


def figures(values: list[float]) -> dict | None:
    if not values:
        return None
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values), 1),
    }


def report(load: Load, cameras: int, watch: Watch, stored: Counter, receipts: int, cpu: dict) -> dict:
    """One camera count's figures (see the module's docstring)."""
    window_end = load.t0 + load.duration
    ok = [p for p in load.posts if p.status in (200, 201) and p.answered is not None]
    in_window = sum(1 for p in ok if p.status == 201 and (p.answered or 0.0) <= window_end)
    hot = [p for p in ok if p.hot]
    alerted = [(p, watch.seen[p.site_id, p.track_id]) for p in hot if (p.site_id, p.track_id) in watch.seen]
    if alerted:
        missed = len(hot) - len(alerted)
        note = f"{missed} hotlisted events raised no alert" if missed else None
    else:
        note = NO_ALERTS if hot else "no hotlisted event was stored"
    once, check = exactly_once(load, stored, receipts)
    new = sum(1 for p in ok if p.status == 201)
    return {
        "cameras": cameras,
        "nominal_per_s": round(cameras / load.interval, 1),
        "offered_per_s": round(load.due / load.duration, 1),
        "ingested_per_s": round(in_window / load.duration, 1),
        "events": {
            "due": load.due,
            "posted": len(load.posts),
            "stored": new,
            "duplicates": len(ok) - new,  # answered 200: a retry of an event stored by an earlier try
            "refused": sum(1 for p in load.posts if p.status not in (None, 200, 201)),
            "unanswered": sum(1 for p in load.posts if p.answered is None),
            "left": load.due - len(ok),
        },
        "ingest_ms": figures([(p.answered - p.sent) * 1000 for p in ok if p.answered is not None]),
        "wait_ms": figures([(p.sent - p.due) * 1000 for p in load.posts]),
        "alert_ms": figures([(seen - p.sent) * 1000 for p, (seen, _) in alerted]),
        "alert_raised_ms": figures([(raised - p.sent_wall) * 1000 for p, (_, raised) in alerted]),
        "alerts": {"hotlisted_stored": len(hot), "raised": len(alerted), "by_kind": dict(watch.kinds)},
        "alert_note": note,
        "hub_connections": watch.busiest(),
        "audit_chain": {
            "held": round(watch.chain_held / watch.samples, 2) if watch.samples else None,
            "waiting": round(watch.chain_waiting / watch.samples, 2) if watch.samples else None,
        },
        "errors": sum(load.errors.values()),
        "error_kinds": dict(load.errors),
        "cpu_s": cpu,
        "hub_cpu_ms_per_event": round(1000 * cpu["hub"] / new, 1) if new else None,
        "postgres_cpu_ms_per_event": round(1000 * cpu["postgres"] / new, 1)
        if new and cpu["postgres"] is not None
        else None,
        "exactly_once": once,
        "check": check,
    }


def run_size(served: Hub, load: Load, cameras: int, seed: int) -> dict:
    before = _cpu(served.server.pid)
    watch = asyncio.run(simulate(served, load, cameras, seed))
    after = _cpu(served.server.pid)
    postgres = watch.postgres_cpu()
    cpu = {
        "hub": round(after[0] - before[0], 1),
        "generator": round(after[1] - before[1], 1),
        "postgres": None if postgres is None else round(postgres, 1),  # the hub's connections only
    }
    stored, receipts = stored_tracks(served.url, load.track_base, load.track_base + TRACKS_PER_RUN)
    return report(load, cameras, watch, stored, receipts, cpu)


# --- the report ----------------------------------------------------------------------------------

COLUMNS = (
    ("cameras", 7),
    ("offered/s", 9),
    ("ingested/s", 10),
    ("ingest p50", 10),
    ("ingest p99", 10),
    ("wait p99", 9),
    ("alert p99 (n)", 13),
    ("left", 6),
    ("errors", 6),
    ("hub CPU/event", 13),
    ("chain held", 10),
)


def row(run: dict) -> list[str]:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} ms"

    ingest, wait, alert = run["ingest_ms"] or {}, run["wait_ms"] or {}, run["alert_ms"]
    alert_text = f"{alert['p99']:.0f} ms ({alert['n']})" if alert else "n/a"
    per_event = run["hub_cpu_ms_per_event"]
    return [
        str(run["cameras"]),
        f"{run['offered_per_s']:.1f}",
        f"{run['ingested_per_s']:.1f}",
        ms(ingest.get("p50")),
        ms(ingest.get("p99")),
        ms(wait.get("p99")),
        alert_text,
        str(run["events"]["left"]),
        str(run["errors"]),
        "-" if per_event is None else f"{per_event:.0f} ms",
        "-" if run["audit_chain"]["held"] is None else f"{run['audit_chain']['held']:.0%}",
    ]


def table(result: dict) -> str:
    lines = [
        " | ".join(name.rjust(width) for name, width in COLUMNS),
        "-+-".join("-" * width for _, width in COLUMNS),
    ]
    lines += [
        " | ".join(cell.rjust(width) for cell, (_, width) in zip(row(run), COLUMNS, strict=True))
        for run in result["runs"]
    ]
    notes = sorted({run["alert_note"] for run in result["runs"] if run["alert_note"]})
    settings = result["settings"]
    lines += [
        f"one vehicle every {settings['interval_s']:g} s a camera (Poisson),"
        f" {settings['duration_s']:g} s each,"
        f" {settings['hotlisted']:.0%} hotlisted; hub: anpr serve --workers {settings['workers']},"
        f" PostgreSQL{', Redis' if settings['redis'] else ''}; {result['machine']['cpus']} CPUs,"
        f" load average {result['machine']['load_before']:.1f} before",
        *(f"alerts: {note}" for note in notes),
        *(f"{run['cameras']} cameras: {run['check']}" for run in result["runs"]),
    ]
    return "\n".join(lines)


# --- the command ---------------------------------------------------------------------------------


def camera_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from None
    if not counts or not all(1 <= n <= 5000 for n in counts):
        raise argparse.ArgumentTypeError(f"'{text}': each camera count must be 1 to 5000")
    return counts


def bounded(low: float, high: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value:g} is not within {low:g} to {high:g}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        prog="python -m tests.load.hub",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--cameras",
        type=camera_counts,
        metavar="N[,N...]",
        default=[50, 200, 1000],
        help="camera counts to run, in turn (50,200,1000)",
    )
    add(
        "--duration",
        metavar="S",
        type=bounded(1, 600),
        default=30.0,
        help="seconds of new vehicles per camera count (30)",
    )
    add(
        "--drain",
        metavar="S",
        type=bounded(0, 600),
        default=15.0,
        help="seconds more for what is queued then (15)",
    )
    add(
        "--interval",
        metavar="S",
        type=bounded(0.05, 3600),
        default=4.0,
        help="mean seconds between a camera's vehicles (4)",
    )
    add(
        "--hotlisted",
        metavar="SHARE",
        type=bounded(0, 1),
        default=0.02,
        help="share of plates on the hotlist (0.02)",
    )
    add("--hotlist-size", metavar="N", type=int, default=2000, help="plates on the hotlist (2000)")
    add(
        "--db",
        metavar="URL",
        default=DEFAULT_DB,
        help="PostgreSQL to make the schema in (ANPR_TEST_POSTGRES_URL, else test on loopback)",
    )
    add(
        "--redis",
        metavar="URL",
        default=None,
        help="Redis for the hub's rate limit, shared by its workers (none: each counts alone)",
    )
    add(
        "--workers",
        type=int,
        default=2,
        choices=range(1, 17),
        metavar="1-16",
        help="hub worker processes (2)",
    )
    add("--keep", action="store_true", help="keep the schema (named in the report); else it is dropped")
    add("--seed", metavar="N", type=int, default=1, help="random seed of the traffic (1)")
    add("--out", metavar="PATH", type=Path, help="write the JSON report here, and the table beside it (.txt)")
    return parser


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if not options.db.startswith("postgresql"):
        parser().error("--db must be PostgreSQL (postgresql+psycopg://...): the hub's records at scale")
    if options.hotlist_size < 0:
        parser().error("--hotlist-size must be 0 or more")
    # A socket per camera here, and one per camera in the hub's workers (which inherit the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if max(options.cameras) + 200 > hard:
        parser().error(
            f"{max(options.cameras)} cameras need more open files than this system allows ({hard})"
        )
    images = evidence_templates()
    runs: list[dict] = []
    result: dict = {
        "settings": {
            "cameras": options.cameras,
            "duration_s": options.duration,
            "drain_s": options.drain,
            "interval_s": options.interval,
            "hotlisted": options.hotlisted,
            "hotlist_size": options.hotlist_size,
            "workers": options.workers,
            "redis": bool(options.redis),
            "evidence": {
                "scene_bytes": len(images[0]),
                "plate_bytes": len(images[1]),
                "suspected": SUSPECTED,
            },
        },
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]},
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "schema": None,  # the hub's records, dropped at the end unless --keep
        "runs": runs,
    }
    work = Path(tempfile.mkdtemp(prefix="anpr-load-"))
    try:
        with hub(
            options.db,
            cameras=max(options.cameras),
            hotlist_size=options.hotlist_size,
            workers=options.workers,
            redis=options.redis,
            work=work,
            keep=options.keep,
        ) as running:
            result["schema"] = running.schema
            # Each worker's first posts load code and open connections: a few, left out of the figures.
            warm = min(max(options.cameras), 4 * options.workers)
            run_size(running, Load(0.25, 0.0, 1.0, 5.0, 0, images, options.hotlist_size, 0), warm, 0)
            hot = 0
            for index, cameras in enumerate(options.cameras, start=1):
                load = Load(
                    interval=options.interval,
                    hotlisted=options.hotlisted,
                    duration=options.duration,
                    drain=options.drain,
                    track_base=index * TRACKS_PER_RUN,
                    images=images,
                    hotlist_size=options.hotlist_size,
                    hot=hot,
                )
                run = run_size(running, load, cameras, options.seed)
                hot = load.hot
                runs.append(run)
                print(f"{cameras} cameras: {json.dumps(run)}", file=sys.stderr)
    except (sa.exc.OperationalError, psycopg.OperationalError) as exc:
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
        raise SystemExit(
            f"hub load test: the database is unreachable ({reason[0] if reason else exc})"
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = table(result)
    print(text)
    if options.out:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(result, indent=2) + "\n")
        options.out.with_suffix(".txt").write_text(text + "\n")
    return 0 if all(run["exactly_once"] for run in result["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
