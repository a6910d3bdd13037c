"""Portal load benchmark (not a CI test): a million challans in PostgreSQL, the portal under uvicorn
on loopback, and bounded concurrent plate look-ups; prints look-ups per second and latency
percentiles.

    nice -n 10 .venv/bin/python -m tests.load.bench_portal \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/test --rows 1000000 --seconds 20

The rows go into their own schema (default `anpr_bench`), built once with INSERT ... SELECT over
generate_series inside PostgreSQL (the fastest bulk path: no row crosses the wire) and reused on
later runs; --drop removes it afterwards. Plates are spread so that a plate has 3 challans on average
(a few have many); 10 % of look-ups ask for plates with none. The rate limit is off for the run (all
traffic comes from one address)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx  # only to wait for the server to come up
import sqlalchemy as sa

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PLATES_PER_CHALLAN = 3
SITES = 24

LOAD_SQL = """
INSERT INTO sites (id, name, created_at)
SELECT 'bench-site-' || s, 'Bench site ' || s, now() FROM generate_series(1, {sites}) s;

INSERT INTO events (id, site_id, track_id, vehicle_type, first_seen, last_seen, plate_text,
                    plate_confidence, speed_kmh, data, recorded_at)
SELECT g, 'bench-site-' || (1 + g % {sites}), g, 'car',
       timestamptz '2026-01-01 00:00+00' + g * interval '13 seconds',
       timestamptz '2026-01-01 00:00+00' + g * interval '13 seconds' + interval '4 seconds',
       {plate}, 0.9, NULL, '{{}}', now()
FROM generate_series(1, {rows}) g;

INSERT INTO violations (id, event_id, site_id, code, occurred_at, vehicle_type, plate_text,
                        plate_confidence, plate_candidates, details, status, reviewed_by, reviewed_at,
                        created_at, updated_at)
SELECT g, g, 'bench-site-' || (1 + g % {sites}),
       (ARRAY['RED_LIGHT','OVER_SPEED','WRONG_WAY','LANE'])[1 + g % 4],
       timestamptz '2026-01-01 00:00+00' + g * interval '13 seconds', 'car', {plate}, 0.9, '[]', '{{}}',
       (ARRAY['issued','issued','paid','contested','upheld','cancelled'])[1 + g % 6], 'bench',
       now(), now(), now()
FROM generate_series(1, {rows}) g;

INSERT INTO challans (id, violation_id, number, issued_on, due_on, psid, fine_pkr, fine_schedule,
                      fine_class, plate, officer, issued_at)
SELECT g, g, 'PB-2026-' || lpad(g::text, 7, '0') || '-' || upper(substr(md5(g::text), 1, 4)),
       date '2026-01-02' + (g / 8000), date '2026-01-16' + (g / 8000),
       '3201' || lpad(g::text, 14, '0'), 5000, 'punjab-2025-11', 'car', {plate}, 'bench',
       timestamptz '2026-01-02 05:00+00' + g * interval '13 seconds'
FROM generate_series(1, {rows}) g;
"""


def plate_sql(plates: int) -> str:
    """The g-th row's plate: one of `plates` plates, e.g. LEA01234, spread by a multiplicative hash."""
    pid = f"((g::bigint * 7919) % {plates})"
    return f"'LE' || chr(65 + ({pid} % 26)::int) || lpad(({pid} / 26)::text, 5, '0')"


def plate_of(pid: int) -> str:
    return f"LE{chr(65 + pid % 26)}{pid // 26:05d}"


def schema_url(base: str, schema: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def build(base: str, schema: str, rows: int) -> str:
    """Create and fill the schema unless it already holds `rows` challans; returns its URL."""
    from challan.db import init_db

    url = schema_url(base, schema)
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    admin.dispose()
    init_db(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        present = connection.exec_driver_sql("SELECT count(*) FROM challans").scalar_one()
        if present == rows:
            print(f"reusing {schema}: {present:,} challans", file=sys.stderr)
            return url
        if present:
            raise SystemExit(f"{schema} holds {present:,} challans, not {rows:,}; rerun with --drop first")
        started = time.monotonic()
        sql = LOAD_SQL.format(rows=rows, sites=SITES, plate=plate_sql(rows // PLATES_PER_CHALLAN))
        for statement in filter(str.strip, sql.split(";")):
            connection.exec_driver_sql(statement.replace("%", "%%"))  # no parameters: % is modulo
        print(f"inserted {rows:,} challans in {time.monotonic() - started:.0f} s", file=sys.stderr)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return url


def drop(base: str, schema: str) -> None:
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    admin.dispose()


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "ANPR_DATABASE_URL": url,
        "ANPR_LOOKUPS_PER_MINUTE": "0",
        "ANPR_SECRET_KEY": "bench-" * 4,
    }
    anpr = Path(sys.executable).with_name("anpr")
    command = [str(anpr), "serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/openapi.json", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the portal did not start within 60 s")


async def fire(base: str, path: str, *, plates: int, concurrency: int, seconds: float, seed: int):
    """`concurrency` keep-alive connections, each looking up random plates back to back for `seconds`.
    HTTP/1.1 is written and parsed by hand over asyncio streams: an HTTP client library costs more
    CPU per request than the portal itself, and on a small machine the generator must stay light."""
    rng = random.Random(seed)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    found = 0
    deadline = time.monotonic() + seconds
    host, port = base.removeprefix("http://").split(":")

    async def client_loop():
        nonlocal found
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.monotonic() < deadline:
                miss = rng.random() < 0.10
                plate = f"ZZ{rng.randrange(10**6):06d}" if miss else plate_of(rng.randrange(plates))
                request = f"GET {path}?plate={plate} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
                started = time.perf_counter()
                writer.write(request.encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                status = int(head[9:12])
                statuses[status] = statuses.get(status, 0) + 1
                found += status == 200 and body.startswith(b"[{")
        finally:
            writer.close()

    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return latencies, statuses, found


def _cpu(server_pid: int) -> tuple[float, float, float]:
    """CPU seconds used so far by the portal (its process tree), this process and PostgreSQL."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid: int) -> tuple[float, int, str]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        name = Path(f"/proc/{pid}/comm").read_text().strip()
        return (int(fields[11]) + int(fields[12])) / tick, int(fields[1]), name

    portal = mine = postgres = 0.0
    tree = {server_pid}
    for entry in sorted(Path("/proc").iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0):
        if not entry.name.isdigit():
            continue
        try:
            seconds, parent, name = stat(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
        if int(entry.name) in tree or parent in tree:
            tree.add(int(entry.name))
            portal += seconds
        elif int(entry.name) == os.getpid():
            mine += seconds
        elif name.startswith("postgres"):
            postgres += seconds
    return portal, mine, postgres


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("ANPR_BENCH_POSTGRES_URL", DEFAULT_DB))
    parser.add_argument("--schema", default="anpr_bench")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured run")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--path", default="/api/v1/challans", help="/api/v1/challans or /challans (HTML)")
    parser.add_argument("--drop", action="store_true", help="drop the schema at the end")
    args = parser.parse_args(argv)
    if not args.db.startswith("postgresql"):
        raise SystemExit("the benchmark needs PostgreSQL (--db postgresql+psycopg://...)")

    url = build(args.db, args.schema, args.rows)
    server, base = start_server(url, args.workers)
    cpu_before = _cpu(server.pid)
    try:
        plates = args.rows // PLATES_PER_CHALLAN
        asyncio.run(fire(base, args.path, plates=plates, concurrency=4, seconds=2, seed=1))  # warm-up
        latencies, statuses, found = asyncio.run(
            fire(base, args.path, plates=plates, concurrency=args.concurrency, seconds=args.seconds, seed=2)
        )
        cpu_after = _cpu(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
        if args.drop:
            drop(args.db, args.schema)
    count = len(latencies)
    ms = [v * 1000 for v in latencies]
    print(
        f"{args.rows:,} challans, {args.workers} workers, {args.concurrency} concurrent clients, "
        f"{args.seconds:g} s, GET {args.path}?plate=...\n"
        f"  requests {count:,}  statuses {dict(sorted(statuses.items()))}"
        + (f"  plates with challans {found:,}\n" if args.path.startswith("/api/") else "\n")
        + f"  look-ups/s {count / args.seconds:,.0f}\n"
        f"  latency ms: mean {statistics.fmean(ms):.1f}  p50 {percentile(ms, 50):.1f}  "
        f"p95 {percentile(ms, 95):.1f}  p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}\n"
        f"  CPU s during the run: portal {cpu_after[0] - cpu_before[0]:.1f}, "
        f"load generator and warm-up {cpu_after[1] - cpu_before[1]:.1f}, "
        f"PostgreSQL {cpu_after[2] - cpu_before[2]:.1f} (machine: {os.cpu_count()} CPUs, shared)"
    )
    return 0 if set(statuses) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
