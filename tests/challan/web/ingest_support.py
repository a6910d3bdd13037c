"""What the hub's tests share (tests/challan/web/test_ingest.py, tests/anpr/jobs/test_hub.py): the
portal served for real by uvicorn on a loopback port, the `anpr` command run in-process through the
installed command's guard, and vehicle events built as `anpr process --json` prints them, with real
image files for evidence."""

from __future__ import annotations

import functools
import hashlib
import io
import sys
from datetime import datetime, timedelta
from pathlib import Path

import typer
from PIL import Image, ImageDraw

from anpr.cli import cli
from anpr.cli.common import run_guarded
from anpr.types import Candidate, Evidence, PlateRead, VehicleEvent
from anpr.weights import PROJECT_ROOT
from challan.web.settings import PortalSettings
from tests.challan.web.conftest import free_port, portal_server  # noqa: F401 (free_port: for the hub tests)

SITE_FILE = PROJECT_ROOT / "sample_videos" / "regal-chowk.yaml"  # LHR-REGAL-01, limit 60 km/h
SITE_ID = "LHR-REGAL-01"
START = datetime.fromisoformat("2026-11-20T08:00:00+05:00")


def hub_server(settings: PortalSettings, port: int | None = None):
    """The portal (the hub) under uvicorn on 127.0.0.1, in a thread; yields its address."""
    return portal_server(settings, port)


def run_anpr(capsys, monkeypatch, *args: str, stdin: str = "") -> tuple[int, list[str], list[str]]:
    """`anpr ARGS...` in this process: (exit status, stdout lines, stderr lines)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    command = typer.main.get_command(cli)
    code = run_guarded(functools.partial(command.main, args=list(args), prog_name="anpr"))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def add_camera(capsys, monkeypatch, db_url: str, camera_id: str, *options: str) -> str:
    """`anpr camera add` at the regal-chowk site; returns the key it printed."""
    code, out, err = run_anpr(
        capsys, monkeypatch, "camera", "add", camera_id, "--site", str(SITE_FILE), "--db", db_url, *options
    )
    assert code == 0, err
    [key] = out
    return key


def evidence_images(folder: Path, track_id: int) -> list[Path]:
    """A scene (JPEG) and a plate close-up (PNG), different for each track."""
    folder.mkdir(parents=True, exist_ok=True)
    scene = Image.new("RGB", (320, 180), (70, 72, 75))
    ImageDraw.Draw(scene).rectangle((90, 45, 230, 165), fill=(30 + 20 * track_id % 200, 60, 140))
    plate = Image.new("RGB", (120, 40), (255, 255, 255))
    ImageDraw.Draw(plate).text((10, 12), f"LEH {5780 + track_id}", fill=(0, 0, 0))
    paths = [folder / f"t{track_id}_scene_at.jpg", folder / f"t{track_id}_plate.png"]
    scene.save(paths[0], quality=90)
    plate.save(paths[1])
    return paths


def event_json(
    track_id: int,
    *,
    evidence: list[Path] = (),  # type: ignore[assignment]
    root: Path | None = None,  # evidence paths are written relative to it (else absolute)
    speed_kmh: float = 48.4,
    signal: str = "green",
    red_onset_at: datetime | None = None,
    site_id: str = SITE_ID,
    claimed: list[dict] = (),  # type: ignore[assignment]
) -> dict:
    """One line of `anpr process --json`, as VehicleEvent.to_json and event_json print it, with the
    edge's own `violations` (`claimed`), which the hub does not trust."""
    first = START + timedelta(seconds=0.5 * track_id)
    kinds = {".jpg": "scene_at", ".png": "plate_crop"}
    files = tuple(
        Evidence(
            kind=kinds[path.suffix],
            path=str(path.relative_to(root)) if root else str(path),
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in evidence
    )
    event = VehicleEvent(
        site_id=site_id,
        track_id=track_id,
        vehicle_type="car",
        first_seen=first,
        last_seen=first + timedelta(seconds=2.3),
        plate=PlateRead(
            text=f"LEH{5780 + track_id}",
            confidence=0.93,
            candidates=(Candidate(f"LEH{5780 + track_id}", 0.93), Candidate(f"LEH{5760 + track_id}", 0.04)),
            year="07",
            year_candidates=(Candidate("07", 1.0),),
        ),
        colour="white",
        speed_kmh=speed_kmh,
        speed_method="calibrated-ground-plane",
        crossed_stop_line_at=first + timedelta(seconds=1.5),
        signal_state_at_crossing=signal,
        red_onset_at=red_onset_at,
        direction="with",
        evidence=files,
    )
    return event.to_json() | {"violations": list(claimed)}
