"""Ingest latency on loopback (not a CI test): `anpr serve` (one worker) takes events one at a time
from one camera over a kept-alive connection; prints the median and 95th percentile of a post that
stores an event and of its retry (answered 200, nothing stored), for an event without evidence and
for one with its evidence files. The events are `anpr process --json` output with their files:

    .venv/bin/anpr process sample_videos/regal-chowk.mp4 --site sample_videos/regal-chowk.yaml \\
        --json --no-store --out /tmp/regal > /tmp/regal.jsonl
    .venv/bin/python -m tests.load.ingest_latency /tmp/regal.jsonl [--db URL] [--posts 40]

Each post gives the event a fresh track id, so every first post stores a new event; the site file is
the one the events came from (default regal-chowk's). Without --db the records are a new SQLite file."""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ANPR = str(Path(sys.executable).with_name("anpr"))
ROOT = Path(__file__).resolve().parents[2]
URL = "/api/v1/ingest/events"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=Path, help="anpr process --json output")
    parser.add_argument("--site", type=Path, default=ROOT / "sample_videos" / "regal-chowk.yaml")
    parser.add_argument("--db", help="records database (default: a new SQLite file)")
    parser.add_argument("--posts", type=int, default=40, help="events of each kind")
    args = parser.parse_args()
    events = [json.loads(line) for line in args.events.read_text().splitlines() if line.strip()]
    bare = next(e for e in events if not e["evidence"])
    full = max(events, key=lambda e: len(e["evidence"]))
    files = [Path(item["path"]).read_bytes() for item in full["evidence"]]
    with tempfile.TemporaryDirectory() as work:
        db = args.db or f"sqlite:///{work}/hub.db"
        key = subprocess.run(
            [ANPR, "camera", "add", f"LOAD-{uuid.uuid4().hex[:8]}", "--site", str(args.site), "--db", db]
            + ["--per-minute", "1000000"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        with serving(db, Path(work) / "evidence") as base, httpx.Client(headers={"X-API-Key": key}) as client:
            size = sum(len(f) for f in files) / 1e6
            for label, event, parts in (
                ("no evidence", bare, []),
                (f"{len(files)} files, {size:.1f} MB", full, files),
            ):
                first, retry = [], []
                for n in range(args.posts):
                    body = json.dumps(event | {"track_id": 1_000_000 + n + (0 if parts else 500_000)})
                    first.append(timed(client, base, body, parts, 201))
                    retry.append(timed(client, base, body, parts, 200))
                print(f"{label:>20}: stored {figures(first)}; retried {figures(retry)}")


def timed(client: httpx.Client, base: str, body: str, parts: list[bytes], expected: int) -> float:
    start = time.perf_counter()
    if parts:
        files = [("evidence", (f"{i}.jpg", data)) for i, data in enumerate(parts)]
        response = client.post(base + URL, data={"event": body}, files=files)
    else:
        response = client.post(base + URL, content=body, headers={"content-type": "application/json"})
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == expected, response.text
    return elapsed


def figures(ms: list[float]) -> str:
    p95 = sorted(ms)[min(len(ms) - 1, round(0.95 * len(ms)))]
    return f"median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms"


class serving:
    """`anpr serve` on a free loopback port for the block."""

    def __init__(self, db: str, evidence: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = os.environ | {"ANPR_EVIDENCE_DIR": str(evidence), "ANPR_SECRET_KEY": "x" * 32}
        self.server = subprocess.Popen(
            [ANPR, "serve", "--db", db, "--port", str(self.port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def __enter__(self) -> str:
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/api/v1/openapi.json")
                return base
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit("the hub did not start")

    def __exit__(self, *_exc) -> None:
        self.server.terminate()
        self.server.wait(15)


if __name__ == "__main__":
    main()
